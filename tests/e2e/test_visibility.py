"""NOTES_VISIBILITY: team memory by default; with `own`, a rep reads only the calls they logged
(/brief, /timeline, /followup, the model's prompts, snooze, the typeahead): other reps' calls on
a prospect they share show as a count."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import ids
from bot.brief.prepare import make_brief
from bot.followup.draft import make_followup
from bot.home.publish import home_state
from bot.infra.llm import LlmClient
from bot.log.calls import log_call
from bot.services import Services
from bot.timeline.history import prospect_timeline
from memory.index import DealHealth, LocalIndex
from memory.records import CallLog
from memory.store import ProspectMemory
from tests.conftest import NOW
from tests.e2e.conftest import RunningBot, filled_log_view, start_bot
from tests.e2e.test_app_home import snooze_menu
from tests.e2e.test_brief_with_reasoning_memory import memory_block
from tests.e2e.test_log_and_timeline import open_log_modal, submit
from tests.memory.test_kept_calls import running, wait_until_empty
from tests.support.blocks import render
from tests.support.fake_groq import FakeGroq
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.slack_requests import REP

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


@pytest.mark.parametrize("no_rep", ["", None])
async def test_own_a_request_naming_no_rep_reads_no_notes(
    own_bot: RunningBot, no_rep: str | None
) -> None:
    services = own_bot.services
    # The rep who logged it reads it through the same use cases: the calls below can read.
    theirs = await prospect_timeline(services, TEAM_ID, "Marcus Webb", rep_id=OTHER)
    assert [e.note for e in theirs.entries] == [MARCUS_NOTE]
    brief = await make_brief(services, TEAM_ID, "Marcus Webb", rep_id=OTHER)
    assert [n.text for n in brief.notes] == [MARCUS_NOTE]

    # Naming no rep is not "sees everything": no prospect is known and no note is read.
    assert (
        await services.index.search_prospects(TEAM_ID, "marc", rep_id=services.seen_by(no_rep))
        == []
    )
    sight = await services.sight(TEAM_ID, "marcus-webb", no_rep)
    assert not sight.shows(OTHER) and not sight.shows(REP) and sight.teammates == 1
    timeline = await prospect_timeline(services, TEAM_ID, "Marcus Webb", rep_id=no_rep)
    assert timeline.entries == [] and not timeline.found
    brief = await make_brief(services, TEAM_ID, "Marcus Webb", rep_id=no_rep)
    assert brief.notes == [] and not brief.has_history
    followup = await make_followup(services, TEAM_ID, "Marcus Webb", rep_id=no_rep or "")
    assert not followup.has_history and followup.draft is None


async def test_workspace_shares_every_prospect(team_bot: RunningBot) -> None:
    _, options = await team_bot.send.options(ids.PROSPECT_ACTION, "marc")
    assert json.loads(options)["options"][0]["value"] == "Marcus Webb"
    assert MARCUS_NOTE in await shown(team_bot, "/timeline", "Marcus Webb")


# -- a prospect two reps logged: under `own` each reads only their own calls ------------------

REP_A = OTHER  # logged the history
A_NOTES = [
    (date(2026, 10, 1), "positive", "ZEBRA-ONE: Omar Vance runs procurement and wants 40 seats."),
    (date(2026, 10, 15), "objection", "ZEBRA-TWO: legal reviews the DPA before any pilot."),
]
A_MARKERS = ("ZEBRA-ONE", "ZEBRA-TWO", "Omar Vance")
B_NOTE = "Quick hello at the fair; she remembered us."  # REP, the default sender, logged this


def shared_call(rep: str, prospect: str, day: date, outcome: str, note: str, n: int) -> CallLog:
    return CallLog(
        call_id=f"shared-{rep}-{prospect[:4]}-{n}",
        workspace_id=TEAM_ID,
        prospect=prospect,
        company="Northwind",
        rep_id=rep,
        call_date=day,
        outcome=outcome,
        note=note,
        transcript=None,
        logged_at=datetime(2026, 11, 20, 9, n, tzinfo=UTC),
    )


async def log_shared_history(services: Services) -> None:
    """Rep A's two calls on Nadia Rahman and one on Quinn Hale; rep B's one line on Nadia."""
    for n, (day, outcome, note) in enumerate(A_NOTES):
        assert await log_call(services, shared_call(REP_A, "Nadia Rahman", day, outcome, note, n))
    quinn = shared_call(REP_A, "Quinn Hale", date(2026, 10, 3), "neutral", "ZEBRA-THREE.", 9)
    assert await log_call(services, quinn)
    mine = shared_call(REP, "Nadia Rahman", date(2026, 11, 2), "neutral", B_NOTE, 5)
    assert await log_call(services, mine)


async def shared_bot(
    fake_slack: FakeSlack, services: Services, visibility: str
) -> AsyncIterator[RunningBot]:
    with_visibility = replace(services, notes_visibility=visibility)
    await log_shared_history(with_visibility)
    server, bot = await start_bot(fake_slack, with_visibility)
    yield bot
    await server.close()


@pytest.fixture
async def own_shared_bot(
    fake_slack: FakeSlack, services_with_llm: Services
) -> AsyncIterator[RunningBot]:
    async for bot in shared_bot(fake_slack, services_with_llm, "own"):
        yield bot


@pytest.fixture
async def team_shared_bot(
    fake_slack: FakeSlack, services_with_llm: Services
) -> AsyncIterator[RunningBot]:
    async for bot in shared_bot(fake_slack, services_with_llm, "workspace"):
        yield bot


async def shown_to(bot: RunningBot, command: str, text: str, user: str) -> str:
    before = len(bot.slack.responses)
    await bot.send.command(command, text, user=user)
    return render((await bot.slack.wait_for("respond", before + 1))[-1]["blocks"])


def prompts(groq: FakeGroq, since: int = 0) -> list[str]:
    return [groq.user_prompt(i) for i in range(since, len(groq.requests))]


async def test_own_a_line_on_a_teammates_prospect_opens_none_of_their_notes(
    own_shared_bot: RunningBot, groq: FakeGroq
) -> None:
    bot = own_shared_bot
    # /brief: the model is asked (and fails, so the memory-only brief shows the notes read).
    brief = await shown_to(bot, "/brief", "Nadia Rahman", REP)
    asked = prompts(groq)
    assert asked, "the brief never asked the model"
    for prompt in asked:
        assert B_NOTE in prompt and "Interactions logged: 1" in prompt
        assert "not shared with this rep (not in these notes): 2" in prompt
        assert not any(marker in prompt for marker in A_MARKERS), prompt
    assert B_NOTE in brief and "2 calls by teammates" in brief
    assert not any(marker in brief for marker in A_MARKERS)

    timeline = await shown_to(bot, "/timeline", "Nadia Rahman", REP)
    assert B_NOTE in timeline and "1 interaction ·" in timeline
    assert "2 calls by teammates" in timeline
    assert not any(marker in timeline for marker in A_MARKERS)

    before = len(groq.requests)
    followup = await shown_to(bot, "/followup", "Nadia Rahman", REP)
    drafted = prompts(groq, before)
    assert drafted, "the follow-up never asked the model"
    for prompt in drafted:
        assert B_NOTE in prompt
        assert not any(marker in prompt for marker in A_MARKERS), prompt
    assert "2 calls by teammates" in followup
    assert not any(marker in followup for marker in A_MARKERS)

    # The rep who logged the history still reads all of it, and B's line only as a count.
    theirs = await shown_to(bot, "/timeline", "Nadia Rahman", REP_A)
    assert all(marker in theirs for marker in ("ZEBRA-ONE", "ZEBRA-TWO"))
    assert B_NOTE not in theirs and "1 call by teammates" in theirs


@pytest.mark.parametrize("visibility", ["own", "workspace"])
async def test_app_home_shows_a_teammates_health_verdict_only_when_notes_are_shared(
    fake_slack: FakeSlack, services: Services, visibility: str
) -> None:
    seen = replace(services, notes_visibility=visibility)
    await log_shared_history(seen)
    # Rep A's brief judged Nadia from A's own notes.
    health = DealHealth("nadia-rahman", 81, "Hot", "rising", date(2026, 11, 19))
    await seen.index.record_health(TEAM_ID, health, judged_by=REP_A)
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)

    def verdicts(state: object) -> dict[str, DealHealth | None]:
        return {row.prospect.slug: row.health for row in state.rows}  # type: ignore[attr-defined]

    assert verdicts(await home_state(seen, client, TEAM_ID, REP_A))["nadia-rahman"] == health
    mine = verdicts(await home_state(seen, client, TEAM_ID, REP))
    assert mine["nadia-rahman"] == (None if visibility == "own" else health)


async def test_own_snooze_knows_only_the_reps_own_prospects(own_shared_bot: RunningBot) -> None:
    bot = own_shared_bot
    today = date(2026, 11, 20)
    dms = len(bot.slack.called("chat.postMessage"))
    await bot.send.home_action(snooze_menu("7", slug="quinn-hale"))  # only A logged Quinn
    said = (await bot.slack.wait_for("chat.postMessage", dms + 1))[-1]
    assert "out of date" in said["text"] and "Quinn" not in json.dumps(said)
    await bot.send.home_action(snooze_menu("date", slug="quinn-hale"))
    said = (await bot.slack.wait_for("chat.postMessage", dms + 2))[-1]
    assert "out of date" in said["text"] and bot.slack.called("views.open") == []
    # A snooze modal forged for Quinn is refused in the modal, without the name.
    picked = {ids.SNOOZE_DATE_ACTION: {"selected_date": "2026-12-24"}}
    forged = {
        "type": "modal",
        "callback_id": ids.SNOOZE_MODAL_CALLBACK,
        "private_metadata": "quinn-hale",
        "state": {"values": {ids.SNOOZE_DATE_BLOCK: picked}},
    }
    status, body = await bot.send.view_submission(forged, "V-SNOOZE")
    assert status == 200 and "no longer known" in json.loads(body)["errors"][ids.SNOOZE_DATE_BLOCK]
    assert await bot.services.index.snoozed(TEAM_ID, REP, today) == {}

    # Nadia Rahman is B's too: B may snooze it.
    published = len(bot.slack.called("views.publish"))
    await bot.send.home_action(snooze_menu("7", slug="nadia-rahman"))
    await bot.slack.wait_for("views.publish", published + 1)
    assert await bot.services.index.snoozed(TEAM_ID, REP, today) == {
        "nadia-rahman": date(2026, 11, 27)
    }


async def test_workspace_still_shares_every_reps_notes(
    team_shared_bot: RunningBot, groq: FakeGroq
) -> None:
    timeline = await shown_to(team_shared_bot, "/timeline", "Nadia Rahman", REP)
    assert all(marker in timeline for marker in ("ZEBRA-ONE", "ZEBRA-TWO", B_NOTE))
    assert "3 interactions ·" in timeline and "teammates" not in timeline
    brief = await shown_to(team_shared_bot, "/brief", "Nadia Rahman", REP)
    assert "ZEBRA-TWO" in brief and "teammates" not in brief
    prompt = groq.user_prompt()
    assert "ZEBRA-ONE" in prompt and "Interactions logged: 3" in prompt
    assert "teammates" not in prompt


async def test_own_reasoning_memory_gives_the_model_only_the_reps_own_facts_and_observations(
    reasoning_memory: ProspectMemory, index: LocalIndex, groq: FakeGroq
) -> None:
    llm = LlmClient("gsk-test", groq.base_url, "openai/gpt-oss-120b", timeout=5.0, max_retries=0)
    services = Services(
        memory=reasoning_memory, index=index, llm=llm, clock=lambda: NOW, notes_visibility="own"
    )
    try:
        async with running(services.outbox):
            for n, (day, outcome, note) in enumerate(A_NOTES):
                await services.outbox.submit(
                    shared_call(REP_A, "Nadia Rahman", day, outcome, note, n)
                )
            await services.outbox.submit(
                shared_call(REP, "Nadia Rahman", date(2026, 11, 2), "neutral", B_NOTE, 5)
            )
            await wait_until_empty(index)
        # Observations are formed after the facts: wait until every note has one behind it.
        deadline = asyncio.get_running_loop().time() + 60
        while True:
            observed = await reasoning_memory.recall_prospect(
                TEAM_ID,
                "nadia-rahman",
                "Nadia Rahman",
                "hello fair DPA procurement",
                types=("observation",),
            )
            texts = " ".join(o.text for o in observed)
            if all(word in texts for word in ("ZEBRA-ONE", "ZEBRA-TWO", "Quick hello")):
                break
            assert asyncio.get_running_loop().time() < deadline, "no observations were formed"
            await asyncio.sleep(0.5)

        await make_brief(services, TEAM_ID, "Nadia Rahman", rep_id=REP)
        await make_brief(services, TEAM_ID, "Nadia Rahman", rep_id=REP_A)
    finally:
        await llm.aclose()

    mine, theirs = groq.user_prompt(0), groq.user_prompt(len(groq.requests) - 1)
    assert not any(marker in mine for marker in A_MARKERS), mine
    block = memory_block(mine)
    assert any("Quick hello" in o["observation"] for o in block["observations"])
    assert any("Quick hello" in f["fact"] for f in block["facts"])
    # A's own observations reach A: the filter keeps what is the rep's own.
    a_block = memory_block(theirs)
    assert any("ZEBRA-TWO" in o["observation"] for o in a_block["observations"])
    assert not any("Quick hello" in o["observation"] for o in a_block["observations"])
