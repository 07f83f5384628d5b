"""A call the rep logged counts everywhere before memory has it: brief, digest, timeline."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from bot.services import Services
from memory.store import ProspectMemory
from tests.e2e.conftest import RunningBot, start_bot
from tests.e2e.test_log_and_timeline import open_log_modal, submit
from tests.support.blocks import render
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.hindsight_proxy import CapacityProxy

NOTE = "Nadia wants SSO before the pilot; her CISO signs off."


@pytest.fixture
async def held_back_bot(
    fake_slack: FakeSlack, services: Services, capacity_proxy: CapacityProxy
) -> AsyncIterator[RunningBot]:
    """A bot whose memory reads normally but refuses to store one call (it stays waiting)."""
    capacity_proxy.refuse.add("call-V-WAIT")
    memory = ProspectMemory.connect(capacity_proxy.url, services.memory.bank_prefix)
    held = Services(memory=memory, index=services.index, clock=services.clock)
    server, bot = await start_bot(fake_slack, held)
    view = await open_log_modal(bot, "Nadia Rahman")
    assert await submit(bot, view, view_id="V-WAIT", prospect="Nadia Rahman", note=NOTE) == {}
    yield bot
    await server.close()
    await memory.aclose()


async def test_the_rep_hears_once_that_the_call_is_saved_and_on_its_way(
    held_back_bot: RunningBot,
) -> None:
    dm = (await held_back_bot.slack.wait_for("chat.postMessage"))[0]
    assert "Nadia Rahman" in dm["text"] and "is saved" in dm["text"]
    assert [c.call_id for c in await held_back_bot.services.index.waiting(TEAM_ID)] == [
        "call-V-WAIT"
    ]


async def test_a_brief_uses_a_call_still_on_its_way_instead_of_no_history(
    held_back_bot: RunningBot,
) -> None:
    await held_back_bot.send.command("/brief", "nadia")
    shown = (await held_back_bot.slack.wait_for("respond"))[-1]
    rendered = render(shown["blocks"])
    assert "No history yet" not in rendered
    assert "SSO before the pilot" in rendered and "on its way to memory" in rendered


async def test_a_digest_and_the_timeline_include_a_call_still_on_its_way(
    held_back_bot: RunningBot,
) -> None:
    await held_back_bot.slack.wait_for("chat.postMessage")
    await held_back_bot.send.command("/digest")
    await held_back_bot.slack.wait_for("respond")
    digest = held_back_bot.slack.called("chat.postMessage")[-1]
    assert "Nadia Rahman" in render(digest["blocks"])

    await held_back_bot.send.command("/timeline", "Nadia Rahman")
    shown = (await held_back_bot.slack.wait_for("respond", 2))[-1]
    assert "on its way to memory" in json.dumps(shown["blocks"])


async def test_a_failing_settings_change_is_explained_with_a_reference(bot: RunningBot) -> None:
    with bot.services.index._engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE digest_settings")
    status, _ = await bot.send.command("/digest", "settings tue 9")
    assert status == 200
    shown = (await bot.slack.wait_for("respond"))[-1]
    assert "Something went wrong on my side" in shown["text"] and "reference" in shown["text"]
