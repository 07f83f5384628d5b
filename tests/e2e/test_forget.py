"""Forgetting a prospect end to end: the confirmation says what goes, then every trace goes
from the real Hindsight and the local tables, with a receipt and an audit line."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.forget import ForgetPlan, forget, resume_forgets
from bot.services import Services
from memory.index import DealHealth, KeptDraft
from memory.records import CallLog
from memory.store import ProspectMemory
from tests.e2e.conftest import RunningBot
from tests.e2e.test_log_and_timeline import open_log_modal, submit
from tests.support.blocks import buttons, render
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.hindsight_proxy import CapacityProxy
from tests.support.slack_requests import REP

OTHER = "U0OTHER"


async def log_nadia_and_omar(bot: RunningBot) -> None:
    view = await open_log_modal(bot)
    await submit(bot, view, view_id="V-N1", prospect="Nadia Rahman", note="Budget approved.")
    await submit(
        bot, view, view_id="V-N2", prospect="Nadia Rahman", note="DPA.", transcript="Full call."
    )
    await submit(bot, view, view_id="V-O1", prospect="Omar Haddad", note="Intro call.")
    await bot.slack.wait_for("chat.postMessage", 3, timeout=60)


async def forget_modal(bot: RunningBot) -> dict:
    """The forget modal as the latest views.update made it (log forms are updated too)."""
    for _ in range(200):
        updates = [c["view"] for c in bot.slack.called("views.update")]
        mine = [v for v in updates if v.get("callback_id") == "forget_prospect"]
        if mine:
            return mine[-1]
        await asyncio.sleep(0.05)
    raise AssertionError("the forget modal was never updated")


async def ask_to_forget(bot: RunningBot, typed: str, user: str = REP) -> dict:
    before = len(bot.slack.responses)
    status, _ = await bot.send.command("/forget", typed, user=user)
    assert status == 200
    return (await bot.slack.wait_for("respond", before + 1))[-1]


async def test_forget_deletes_every_trace_after_a_confirmation_and_sends_a_receipt(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    await log_nadia_and_omar(bot)
    index = bot.services.index
    await index.snooze(TEAM_ID, REP, "nadia-rahman", date(2026, 12, 1))
    await index.record_health(
        TEAM_ID, DealHealth("nadia-rahman", 70, "Hot", "stable", date(2026, 11, 20))
    )
    shown_at = datetime(2026, 11, 20, 9, tzinfo=UTC)
    await index.keep_draft(
        KeptDraft("b" * 32, TEAM_ID, REP, "Nadia Rahman", "N", "S", "B", shown_at)
    )

    asked = await ask_to_forget(bot, "nadia")
    [review] = [b for b in buttons(asked["blocks"]) if b["action_id"] == "forget_review"]
    await bot.send.block_action(review["action_id"], review["value"])
    # The modal opens at once, then says what would go.
    opened = (await bot.slack.wait_for("views.open", 2))[-1]["view"]
    assert "Counting" in render(opened["blocks"]) and "submit" not in opened
    modal = await forget_modal(bot)
    said = render(modal["blocks"])
    assert "*Nadia Rahman*" in said and "2 notes and 1 transcript" in said
    assert "It cannot be undone" in said
    assert await index.known_prospects(TEAM_ID) != []  # nothing deleted before the confirmation

    with caplog.at_level(logging.INFO):  # the root logger: every module's lines
        status, _ = await bot.send.view_submission(modal, "V-FORGET")
        assert status == 200
        receipt = (await bot.slack.wait_for("chat.postMessage", 4, timeout=30))[-1]
    assert receipt["channel"] == REP and "*Nadia Rahman* is forgotten" in receipt["text"]
    assert "3 documents in memory" in receipt["text"]  # two notes and a transcript
    assert "2 call records here" in receipt["text"]
    assert any(
        "forget done" in r.getMessage() and "nadia-rahman" in r.getMessage() for r in caplog.records
    )
    assert "Budget approved" not in caplog.text  # tracebacks included

    memory = bot.services.memory
    assert await memory.listed_calls(TEAM_ID, "nadia-rahman") == []
    assert await memory.forget_prospect(TEAM_ID, "nadia-rahman") == 0  # no document is left
    assert [p.slug for p in await index.known_prospects(TEAM_ID)] == ["omar-haddad"]
    assert await index.snoozed(TEAM_ID, REP, date(2026, 11, 20)) == {}
    assert await index.health_of(TEAM_ID, ["nadia-rahman"]) == {}
    assert await index.kept_draft(TEAM_ID, REP, "b" * 32, shown_at) is None
    assert len(await memory.listed_calls(TEAM_ID, "omar-haddad")) == 1  # the other stays


async def test_only_the_reps_who_logged_it_or_an_admin_may_forget(bot: RunningBot) -> None:
    await log_nadia_and_omar(bot)
    refused = await ask_to_forget(bot, "Nadia Rahman", user=OTHER)
    assert "Only a rep who logged a call with Nadia Rahman, or a workspace admin" in refused["text"]
    bot.slack.admins.add(OTHER)
    allowed = await ask_to_forget(bot, "Nadia Rahman", user=OTHER)
    assert "Review and forget" in json.dumps(allowed["blocks"])
    unknown = await ask_to_forget(bot, "Zed Nobody")
    assert "nothing was deleted" in unknown["text"]
    status, usage = await bot.send.command("/forget", "")
    assert status == 200 and "Usage: `/forget <prospect name>`" in usage
    assert len(await bot.services.memory.listed_calls(TEAM_ID, "nadia-rahman")) == 2


async def test_a_forget_memory_was_down_for_finishes_when_it_is_back_and_says_so(
    bot: RunningBot, fake_slack: FakeSlack, unreachable_memory: ProspectMemory
) -> None:
    await log_nadia_and_omar(bot)
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)
    now = datetime(2026, 11, 20, 10, tzinfo=UTC)
    down = replace(bot.services, memory=unreachable_memory, clock=lambda: now)
    plan = ForgetPlan("nadia-rahman", "Nadia Rahman", 2, 1)
    await forget(down, client, TEAM_ID, plan, REP)
    # Nothing is reported as deleted that was not: no receipt yet, the documents still there.
    assert len(fake_slack.called("chat.postMessage")) == 3
    assert len(await bot.services.memory.listed_calls(TEAM_ID, "nadia-rahman")) == 2
    assert await bot.services.index.known_prospects(TEAM_ID, rep_id=REP) != []

    back = replace(bot.services, clock=lambda: now + timedelta(minutes=5))
    assert await resume_forgets(back, client) == 1
    assert await resume_forgets(back, client) == 0  # once
    receipt = fake_slack.called("chat.postMessage")[-1]
    assert "Memory was unreachable when you asked" in receipt["text"]
    assert await bot.services.memory.listed_calls(TEAM_ID, "nadia-rahman") == []


async def test_the_timeline_menu_opens_the_same_confirmation(bot: RunningBot) -> None:
    await log_nadia_and_omar(bot)
    before = len(bot.slack.responses)
    await bot.send.command("/timeline", "Nadia Rahman")
    timeline = (await bot.slack.wait_for("respond", before + 1))[-1]["blocks"]
    [menu] = [
        e
        for b in timeline
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "overflow"
    ]
    assert menu["options"][0]["value"] == "Nadia Rahman"
    await bot.send.block_action(menu["action_id"], menu["options"][0]["value"])
    modal = await forget_modal(bot)
    assert modal["callback_id"] == "forget_prospect"
    assert "2 notes and 1 transcript" in render(modal["blocks"])


async def test_a_note_on_its_way_during_a_forget_does_not_come_back(
    services: Services, fake_slack: FakeSlack, capacity_proxy: CapacityProxy
) -> None:
    slow = ProspectMemory.connect(capacity_proxy.url, services.memory.bank_prefix)
    delivering = Services(memory=slow, index=services.index, clock=services.clock)
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)
    note = CallLog(
        call_id="call-on-its-way",
        workspace_id=TEAM_ID,
        prospect="Nadia Rahman",
        company=None,
        rep_id=REP,
        call_date=date(2026, 11, 19),
        outcome="neutral",
        note="Asked for the DPA.",
        transcript=None,
        logged_at=datetime(2026, 11, 20, 9, tzinfo=UTC),
    )
    await delivering.outbox.submit(note)
    # The worker has the note and memory is taking it in, slowly.
    capacity_proxy.hold = lambda method, path, body: method == "POST" and b"on-its-way" in body
    sending = asyncio.create_task(delivering.outbox.drain_once())
    try:
        for _ in range(200):
            if capacity_proxy.held:
                break
            await asyncio.sleep(0.05)
        assert capacity_proxy.held

        later = replace(services, clock=lambda: datetime(2026, 11, 20, 10, tzinfo=UTC))
        plan = ForgetPlan("nadia-rahman", "Nadia Rahman", 1, 0)
        request = await forget(later, client, TEAM_ID, plan, REP)
        assert request.waiting == 1  # it was still waiting when the forget began
    finally:
        capacity_proxy.release.set()
        await asyncio.wait_for(sending, 30)
        await slow.aclose()
    # Memory took the note after the forget, and it was deleted on arrival.
    assert await services.memory.listed_calls(TEAM_ID, "nadia-rahman") == []
    assert await services.index.known_prospects(TEAM_ID) == []


async def test_a_review_someone_may_not_do_says_so_in_the_modal(bot: RunningBot) -> None:
    await log_nadia_and_omar(bot)
    await bot.send.block_action("forget_review", "Nadia Rahman", user=OTHER)
    modal = await forget_modal(bot)
    assert "Only a rep who logged a call with Nadia Rahman" in render(modal["blocks"])
    assert "submit" not in modal  # nothing to confirm
    assert len(await bot.services.memory.listed_calls(TEAM_ID, "nadia-rahman")) == 2
