"""NOTES_VISIBILITY: team memory by default; with `own`, a rep's /brief, /timeline, /followup
and typeahead know only the prospects that rep has logged."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.blocks import ids
from bot.services import Services
from tests.e2e.conftest import RunningBot, filled_log_view, start_bot
from tests.e2e.test_log_and_timeline import open_log_modal, submit
from tests.support.blocks import render
from tests.support.fake_slack import FakeSlack

OTHER = "U0OTHER"
MARCUS_NOTE = "Marcus wants the pilot in January; legal reviews the DPA."


async def two_reps_bot(
    fake_slack: FakeSlack, services: Services, visibility: str
) -> AsyncIterator[RunningBot]:
    server, bot = await start_bot(fake_slack, replace(services, notes_visibility=visibility))
    view = await open_log_modal(bot)
    assert await submit(bot, view, view_id="V-MINE", prospect="Anika Patel", note="Intro.") == {}
    status, _ = await bot.send.view_submission(
        filled_log_view(view, "Marcus Webb", note=MARCUS_NOTE), "V-THEIRS", user=OTHER
    )
    assert status == 200
    await bot.slack.wait_for("chat.postMessage", 2)
    yield bot
    await server.close()


@pytest.fixture
async def own_bot(fake_slack: FakeSlack, services: Services) -> AsyncIterator[RunningBot]:
    async for bot in two_reps_bot(fake_slack, services, "own"):
        yield bot


@pytest.fixture
async def team_bot(fake_slack: FakeSlack, services: Services) -> AsyncIterator[RunningBot]:
    async for bot in two_reps_bot(fake_slack, services, "workspace"):
        yield bot


async def shown(bot: RunningBot, command: str, text: str) -> str:
    before = len(bot.slack.responses)
    await bot.send.command(command, text)
    return render((await bot.slack.wait_for("respond", before + 1))[-1]["blocks"])


async def test_own_hides_other_reps_prospects_everywhere(own_bot: RunningBot) -> None:
    _, options = await own_bot.send.options(ids.PROSPECT_ACTION, "marc")
    assert [o["value"] for o in json.loads(options)["options"]] == ["marc"]  # only the new name
    _, mine = await own_bot.send.options(ids.PROSPECT_ACTION, "anik")
    assert json.loads(mine)["options"][0]["value"] == "Anika Patel"

    timeline = await shown(own_bot, "/timeline", "Marcus Webb")
    assert MARCUS_NOTE not in timeline
    brief = await shown(own_bot, "/brief", "marcus")
    assert MARCUS_NOTE not in brief and "No history yet" in brief
    followup = await shown(own_bot, "/followup", "Marcus Webb")
    assert "log a call first" in followup
    # The rep who logged it still sees it.
    before = len(own_bot.slack.responses)
    await own_bot.send.command("/timeline", "Marcus Webb", user=OTHER)
    theirs = (await own_bot.slack.wait_for("respond", before + 1))[-1]
    assert MARCUS_NOTE in render(theirs["blocks"])


async def test_workspace_shares_every_prospect(team_bot: RunningBot) -> None:
    _, options = await team_bot.send.options(ids.PROSPECT_ACTION, "marc")
    assert json.loads(options)["options"][0]["value"] == "Marcus Webb"
    assert MARCUS_NOTE in await shown(team_bot, "/timeline", "Marcus Webb")
