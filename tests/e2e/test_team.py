"""`/team` end to end: trends counted from the facts the real Hindsight labelled, quiet deals
per rep and closes from the local index; admins and the configured user group only; never a
rep's note text; what is missing said plainly when memory labels nothing or is down."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date

import pytest

from bot.services import Services
from memory.index import LocalIndex
from memory.records import FOLLOW_UP_SENT, CallLog
from memory.store import ProspectMemory
from tests.conftest import NOW
from tests.e2e.conftest import RunningBot, start_bot
from tests.memory.test_memory_contract import call
from tests.support.blocks import render
from tests.support.fake_slack import TEAM_ID, FakeSlack

MANAGER, REP_A, REP_B = "U0MGR", "U0REPA", "U0REPB"

# (rep, prospect, date, outcome, note): today is 20 Nov; the last 4 weeks start 24 Oct.
NOTES = [
    (REP_A, "Priya Sharma", date(2026, 10, 5), "objection", "The price is too high for them."),
    (REP_A, "Priya Sharma", date(2026, 11, 3), "objection", "She asked for a discount again."),
    (REP_A, "Priya Sharma", date(2026, 11, 10), "closed_won", "Signed after the pilot."),
    # An email logged as sent: contact, not a call; its pricing is not counted.
    (REP_A, "Priya Sharma", date(2026, 11, 12), FOLLOW_UP_SENT, "Thanks; the price is agreed."),
    (REP_B, "James Okafor", date(2026, 11, 2), "objection", "Pricing is steep, he said."),
    (REP_B, "James Okafor", date(2026, 11, 9), "objection", "They lean to Stripe instead."),
    (REP_B, "James Okafor", date(2026, 11, 12), "closed_lost", "Went with the other vendor."),
    (REP_B, "Anika Patel", date(2026, 10, 1), "objection", "GDPR compliance is a hard gate."),
    (REP_B, "Anika Patel", date(2026, 10, 8), "positive", "The security review has started."),
]


async def log_notes(services: Services) -> None:
    for n, (rep, prospect, day, outcome, note) in enumerate(NOTES):
        logged = call(
            prospect, note, day=day, rep=rep, workspace=TEAM_ID, outcome=outcome, call_id=f"c{n}"
        )
        await services.memory.retain_call(logged)
        assert await services.index.record_delivered_call(logged)


async def team(bot: RunningBot, user: str = MANAGER) -> str:
    before = len(bot.slack.responses)
    status, body = await bot.send.command("/team", "", user=user)
    assert status == 200
    assert "Counting the team" in body
    said = (await bot.slack.wait_for("respond", before + 1, timeout=30))[-1]
    assert said["replace_original"] is True
    return render(said["blocks"]) if said.get("blocks") else str(said["text"])


def assert_no_note_text(shown: str) -> None:
    for *_, note in NOTES:
        assert note not in shown
        assert note.split(" ", 3)[-1].rstrip(".") not in shown


@pytest.fixture
async def reasoning_bot(
    fake_slack: FakeSlack, reasoning_memory: ProspectMemory, index: LocalIndex
) -> AsyncIterator[RunningBot]:
    services = Services(memory=reasoning_memory, index=index, clock=lambda: NOW)
    await log_notes(services)
    fake_slack.admins.add(MANAGER)
    server, bot = await start_bot(fake_slack, services)
    yield bot
    await server.close()


async def test_an_admin_sees_trends_from_labelled_facts_quiet_deals_and_closes(
    reasoning_bot: RunningBot,
) -> None:
    shown = await team(reasoning_bot)
    # Pricing came up in two calls on two deals in the last 4 weeks, once before.
    assert "• *Pricing* — 2 calls (2 deals) ↑ from 1" in shown, shown
    assert "• *Security/compliance* — 0 calls ↓ from 2" in shown
    assert "• *Competitors* — 1 call (1 deal) ↑ from 0" in shown
    # Anika has been silent 43 days against her weekly rhythm; closed deals are not quiet.
    assert "<@U0REPB> — 1 quiet deal; most overdue 43 days silent (usually every 7): Anika" in (
        shown
    )
    assert "Priya" not in shown.split("Deals gone quiet")[1].split("Deals closed")[0]
    assert "1 other rep: no quiet deal" in shown
    # Priya won after a pricing objection; James lost after Stripe came up.
    assert "Won 1 ↑ from 0 · lost 1 ↑ from 0" in shown
    assert "• *Pricing* — won 1 · lost 0" in shown
    assert "• *Competitor* — won 0 · lost 1" in shown
    assert_no_note_text(shown)

    # Memory lists labelled facts by the call's date: the window is applied by the server.
    services = reasoning_bot.services
    since = await services.memory.labelled_notes(TEAM_ID, "objection:pricing", date(2026, 10, 6))
    assert sorted(n.entry.call_id for n in since) == ["c1", "c3", "c4"]  # not c0 of 5 Oct
    older = await services.memory.labelled_notes(TEAM_ID, "objection:pricing", date(2026, 10, 1))
    assert "c0" in {n.entry.call_id for n in older}


async def test_a_rep_who_is_not_an_admin_is_refused_and_shown_nothing(
    reasoning_bot: RunningBot,
) -> None:
    shown = await team(reasoning_bot, user=REP_A)
    assert "The team view is for workspace admins and owners." in shown
    assert "Pricing" not in shown and "quiet" not in shown


@pytest.fixture
async def bot_on_chunks(fake_slack: FakeSlack, services: Services) -> AsyncIterator[RunningBot]:
    await log_notes(services)
    services = replace(services, team_usergroup="@sales-managers")
    fake_slack.usergroups["S0MGRS"] = ("sales-managers", {MANAGER})
    server, bot = await start_bot(fake_slack, services)
    yield bot
    await server.close()


async def test_members_of_the_user_group_see_it_and_memory_without_labels_says_what_is_missing(
    bot_on_chunks: RunningBot,
) -> None:
    shown = await team(bot_on_chunks)  # not an admin: a member of @sales-managers
    assert "Objection and competitor trends need memory that reasons" in shown
    assert "Pricing" not in shown
    assert "<@U0REPB> — 1 quiet deal" in shown
    assert "Won 1 ↑ from 0 · lost 1 ↑ from 0" in shown
    assert_no_note_text(shown)

    refused = await team(bot_on_chunks, user=REP_B)
    assert "admins and owners and members of the user group @sales-managers" in refused


async def test_a_user_group_named_by_id_is_read_without_a_lookup_and_slack_errors_are_said(
    fake_slack: FakeSlack, services: Services
) -> None:
    fake_slack.usergroups["S0MGRS"] = ("sales-managers", {MANAGER})
    server, bot = await start_bot(fake_slack, replace(services, team_usergroup="S0MGRS"))
    try:
        assert "Team view" in await team(bot)
        assert fake_slack.called("usergroups.list") == []
        fake_slack.errors["users.info"] = "ratelimited"
        fake_slack.errors["usergroups.users.list"] = "no_such_subteam"
        refused = await team(bot)
    finally:
        await server.close()
    assert "`users.info` answered `ratelimited`" in refused
    assert "the user group's listing answered `no_such_subteam`" in refused


async def test_a_user_group_slack_will_not_list_is_explained(
    fake_slack: FakeSlack, services: Services
) -> None:
    fake_slack.errors["usergroups.list"] = "missing_scope"
    server, bot = await start_bot(fake_slack, replace(services, team_usergroup="@managers"))
    try:
        shown = await team(bot)
    finally:
        await server.close()
    assert "`missing_scope`" in shown and "usergroups:read" in shown


async def test_memory_down_leaves_out_the_trends_and_says_so(
    fake_slack: FakeSlack, unreachable_memory: ProspectMemory, index: LocalIndex
) -> None:
    services = Services(memory=unreachable_memory, index=index, clock=lambda: NOW)
    for n, (rep, prospect, day, outcome, note) in enumerate(NOTES):
        logged: CallLog = call(
            prospect, note, day=day, rep=rep, workspace=TEAM_ID, outcome=outcome, call_id=f"c{n}"
        )
        assert await index.record_delivered_call(logged)
    fake_slack.admins.add(MANAGER)
    server, bot = await start_bot(fake_slack, services)
    try:
        shown = await team(bot)
    finally:
        await server.close()
    assert "Memory is not answering, so objection and competitor trends are missing" in shown
    assert "<@U0REPB> — 1 quiet deal" in shown
    assert "Won 1 ↑ from 0 · lost 1 ↑ from 0" in shown
