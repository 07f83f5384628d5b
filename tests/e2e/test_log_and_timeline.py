"""End to end: signed Slack requests into the app, a loopback Slack, the real Hindsight."""

from __future__ import annotations

import asyncio
import json
import logging

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import ids
from bot.forget.erase import confirm_forget
from bot.services import Services
from memory.store import ProspectMemory
from tests.e2e.conftest import RunningBot, filled_log_view, start_bot
from tests.support.blocks import buttons
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.hindsight_proxy import CapacityProxy
from tests.support.slack_requests import REP

PRIYA_NOTE = (
    "Priya loved the ROI calculator and agreed to a four-week pilot. "
    "She is worried about migrating data from their current CRM."
)


async def open_log_modal(bot: RunningBot, text: str = "") -> dict:
    before = len(bot.slack.called("views.open"))
    status, _ = await bot.send.command("/log", text)
    assert status == 200
    opened = await bot.slack.wait_for("views.open", before + 1)
    return opened[-1]["view"]


async def submit(bot: RunningBot, view: dict, view_id: str = "V100", **fields: str) -> dict:
    status, body = await bot.send.view_submission(filled_log_view(view, **fields), view_id)
    assert status == 200
    return json.loads(body) if body else {}


async def test_logged_call_reaches_hindsight_and_the_timeline(bot: RunningBot) -> None:
    view = await open_log_modal(bot, "priya  SHARMA")
    assert view["callback_id"] == ids.LOG_MODAL_CALLBACK
    prospect_element = view["blocks"][0]["element"]
    assert prospect_element["initial_option"]["value"] == "priya SHARMA"
    date_element = next(b for b in view["blocks"] if b["block_id"] == ids.DATE_BLOCK)["element"]
    assert date_element["initial_date"] == "2026-11-20"

    answer = await submit(
        bot,
        view,
        prospect="Priya Sharma",
        outcome="pilot_agreed",
        note=PRIYA_NOTE,
        company="Rentokil",
    )
    assert answer == {}  # the modal closes

    confirmation = (await bot.slack.wait_for("chat.postMessage"))[0]
    assert confirmation["channel"] == REP
    assert "Priya Sharma" in confirmation["text"]
    assert "Pilot / trial agreed" in confirmation["text"]

    entries = await bot.services.memory.timeline(TEAM_ID, "priya-sharma")
    assert [e.note for e in entries] == [PRIYA_NOTE]
    assert entries[0].rep_id == REP and entries[0].outcome == "pilot_agreed"

    status, _ = await bot.send.command("/timeline", "PRIYA   sharma")
    assert status == 200
    shown = (await bot.slack.wait_for("respond"))[-1]
    rendered = json.dumps(shown["blocks"])
    assert "ROI calculator" in rendered
    assert "Pilot / trial agreed" in rendered
    assert f"<@{REP}>" in rendered
    assert shown["response_type"] == "ephemeral"  # only the rep who asked sees it


async def test_same_view_submitted_twice_is_stored_once(bot: RunningBot) -> None:
    view = await open_log_modal(bot, "James Okafor")
    for _ in range(2):
        await submit(bot, view, view_id="V777", prospect="James Okafor", note="API reliability.")
    await bot.slack.wait_for("chat.postMessage")
    entries = await bot.services.memory.timeline(TEAM_ID, "james-okafor")
    assert len(entries) == 1
    known = await bot.services.index.known_prospects(TEAM_ID)
    assert len(known) == 1
    assert known[0].interactions == 1
    assert len(bot.slack.called("chat.postMessage")) == 1


@pytest.mark.parametrize(
    ("fields", "block", "words"),
    [
        ({"note": "   "}, ids.NOTE_BLOCK, "2–5 sentences"),
        ({"note": "x" * 3001}, ids.NOTE_BLOCK, "3,001 characters"),
        ({"note": "Fine.", "call_date": "2026-11-21"}, ids.DATE_BLOCK, "future"),
        ({"note": "Fine.", "prospect": ""}, ids.PROSPECT_BLOCK, "Pick a prospect"),
    ],
)
async def test_bad_input_is_rejected_on_its_field_inside_the_modal(
    bot: RunningBot, fields: dict[str, str], block: str, words: str
) -> None:
    view = await open_log_modal(bot)
    answer = await submit(bot, view, **{"prospect": "Anika Patel", **fields})
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == [block]
    assert words in answer["errors"][block]
    assert await bot.services.memory.timeline(TEAM_ID, "anika-patel") == []
    assert bot.slack.called("chat.postMessage") == []


async def test_future_date_is_judged_in_the_reps_own_time_zone(bot: RunningBot) -> None:
    # 10:00 UTC on 20 Nov is already 21 Nov in Kiritimati (UTC+14).
    bot.slack.timezones[REP] = "Pacific/Kiritimati"
    opened = await open_log_modal(bot, "Sarah Linden")
    # Slack is not asked between the ack and views.open: the first form opens on UTC's date,
    # then is brought to the rep's zone once Slack has said which it is.
    assert initial_date(opened) == "2026-11-20"
    view = (await bot.slack.wait_for("views.update"))[0]["view"]
    methods = [c.method for c in bot.slack.calls]
    assert methods.index("views.open") < methods.index("users.info")
    assert initial_date(view) == "2026-11-21"
    answer = await submit(bot, view, prospect="Sarah Linden", call_date="2026-11-21", note="Hi.")
    assert answer == {}
    await bot.slack.wait_for("chat.postMessage")

    # Known from now on: the next form opens on the rep's date, and Slack is not asked again.
    again = await open_log_modal(bot, "Sarah Linden")
    assert initial_date(again) == "2026-11-21"
    assert len(bot.slack.called("users.info")) == 1
    assert len(bot.slack.called("views.update")) == 1


def initial_date(view: dict) -> str:
    block = next(b for b in view["blocks"] if b["block_id"] == ids.DATE_BLOCK)
    return str(block["element"]["initial_date"])


async def test_typeahead_offers_known_prospects_and_the_typed_new_name(bot: RunningBot) -> None:
    view = await open_log_modal(bot)
    await submit(bot, view, view_id="V1", prospect="Marcus Webb", note="Budget confirmed.")
    await bot.slack.wait_for("chat.postMessage")

    status, body = await bot.send.options(ids.PROSPECT_ACTION, "marc")
    assert status == 200
    values = [o["value"] for o in json.loads(body)["options"]]
    assert values == ["Marcus Webb", "marc"]

    status, body = await bot.send.options(ids.PROSPECT_ACTION, "MARCUS webb")
    assert [o["value"] for o in json.loads(body)["options"]] == ["Marcus Webb"]


async def test_empty_timeline_command_gets_usage_help(bot: RunningBot) -> None:
    status, body = await bot.send.command("/timeline", "   ")
    assert status == 200
    assert "Usage: `/timeline <prospect name>`" in body


async def test_unknown_prospect_gets_closest_known_names(bot: RunningBot) -> None:
    view = await open_log_modal(bot)
    await submit(bot, view, view_id="V2", prospect="James Okafor", note="Security report sent.")
    await bot.slack.wait_for("chat.postMessage")

    await bot.send.command("/timeline", "James Okafur")
    shown = (await bot.slack.wait_for("respond"))[-1]
    rendered = json.dumps(shown["blocks"])
    assert "no calls logged for *James Okafur*" in rendered
    suggestion = next(
        b for b in buttons(shown["blocks"]) if b["action_id"].startswith(ids.OPEN_TIMELINE_ACTION)
    )
    assert suggestion["value"] == "James Okafor"

    # The "did you mean" button opens that timeline.
    await bot.send.block_action(suggestion["action_id"], suggestion["value"])
    shown = (await bot.slack.wait_for("respond", 2))[-1]
    assert "Security report sent." in json.dumps(shown["blocks"])


def dpa_note(day: int) -> str:
    return f"Call number {day} about the DPA."


def notes_shown(blocks: list[dict]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def page_button(blocks: list[dict], label: str) -> dict:
    return next(b for b in buttons(blocks) if b["text"]["text"] == label)


async def log_dpa_calls(bot: RunningBot, days: range, prospect: str = "Anika Patel") -> None:
    view = await open_log_modal(bot)
    for day in days:
        await submit(
            bot,
            view,
            view_id=f"V3{day:02d}",
            prospect=prospect,
            call_date=f"2026-10-{day:02d}",
            note=dpa_note(day),
        )


async def test_long_history_is_paged_newest_first(bot: RunningBot) -> None:
    await log_dpa_calls(bot, range(1, 15))
    await bot.slack.wait_for("chat.postMessage", 14)

    await bot.send.command("/timeline", "anika patel")
    first = (await bot.slack.wait_for("respond"))[-1]
    assert notes_shown(first["blocks"]) == [dpa_note(d) for d in range(14, 4, -1)]
    assert "14 interactions" in json.dumps(first["blocks"])
    assert "page 1 of 2" in json.dumps(first["blocks"])
    older = page_button(first["blocks"], "Older ▶")
    await bot.send.block_action(older["action_id"], older["value"])
    second = (await bot.slack.wait_for("respond", 2))[-1]
    assert second["replace_original"] is True
    assert notes_shown(second["blocks"]) == [dpa_note(d) for d in range(4, 0, -1)]
    assert "page 2 of 2" in json.dumps(second["blocks"])
    assert [b["text"]["text"] for b in buttons(second["blocks"])] == ["◀ Newer", "Log a call"]


async def test_older_pages_read_only_their_own_notes_with_a_waiting_call_merged_in(
    fake_slack: FakeSlack, services: Services, capacity_proxy: CapacityProxy
) -> None:
    capacity_proxy.max_retains = 64
    capacity_proxy.refuse.add("call-V-WAIT")  # memory refuses it: it stays waiting here
    memory = ProspectMemory.connect(capacity_proxy.url, services.memory.bank_prefix)
    held = Services(memory=memory, index=services.index, clock=services.clock)
    server, bot = await start_bot(fake_slack, held)
    try:
        await log_dpa_calls(bot, range(1, 13))
        view = await open_log_modal(bot)
        waiting = "Waiting: <@U999> wants the DPA & SCCs signed first."
        await submit(
            bot, view, "V-WAIT", prospect="Anika Patel", call_date="2026-10-13", note=waiting
        )
        await fake_slack.wait_for("chat.postMessage", 13)
        for _ in range(100):  # the other twelve reach memory
            if len(await services.index.waiting(TEAM_ID)) == 1:
                break
            await asyncio.sleep(0.1)
        assert [c.call_id for c in await services.index.waiting(TEAM_ID)] == ["call-V-WAIT"]

        await bot.send.command("/timeline", "Anika Patel")
        first = (await fake_slack.wait_for("respond"))[-1]
        rendered = json.dumps(first["blocks"])
        assert notes_shown(first["blocks"]) == [
            "Waiting: &lt;@U999&gt; wants the DPA &amp; SCCs signed first.",
            *[dpa_note(d) for d in range(12, 3, -1)],
        ]
        assert rendered.count("on its way to memory") == 1
        assert "13 interactions" in rendered and "page 1 of 2" in rendered

        capacity_proxy.requests.clear()
        older = page_button(first["blocks"], "Older ▶")
        await bot.send.block_action(older["action_id"], older["value"])
        second = (await fake_slack.wait_for("respond", 2))[-1]
        assert notes_shown(second["blocks"]) == [dpa_note(d) for d in range(3, 0, -1)]
        assert "on its way to memory" not in json.dumps(second["blocks"])
        # One listing and the three notes this page shows, not the whole history.
        reads = [path for method, path in capacity_proxy.requests if method == "GET"]
        assert sum(path.endswith("/documents") for path in reads) == 1
        assert sum("/documents/" in path for path in reads) == 3
    finally:
        await server.close()
        await memory.aclose()


async def test_hindsight_down_keeps_the_note_says_so_and_delivers_it_unprompted(
    fake_slack: FakeSlack, unreachable_memory: ProspectMemory, services: Services
) -> None:
    down = Services(memory=unreachable_memory, index=services.index, clock=services.clock)
    server, bot = await start_bot(fake_slack, down)
    try:
        view = await open_log_modal(bot, "Priya Sharma")
        answer = await submit(bot, view, prospect="Priya Sharma", note=PRIYA_NOTE)
        assert answer == {}
        dm = (await fake_slack.wait_for("chat.postMessage"))[0]
        assert "is saved" in dm["text"] and "stored shortly" in dm["text"]
        kept = await services.index.waiting(TEAM_ID)
        assert [c.note for c in kept] == [PRIYA_NOTE]

        # The timeline still shows the kept call, marked, and says memory is unreachable.
        await bot.send.command("/timeline", "Priya Sharma")
        shown = json.dumps((await fake_slack.wait_for("respond"))[-1]["blocks"])
        assert "can't reach the memory service" in shown
        assert "ROI calculator" in shown and "on its way to memory" in shown

        # A prospect with nothing kept gets the plain message.
        await bot.send.command("/timeline", "James Okafor")
        shown = (await fake_slack.wait_for("respond", 2))[-1]
        assert "can't reach the memory service" in shown["text"]
    finally:
        await server.close()

    # Memory answers again: a running worker delivers it with nobody logging anything, and
    # the rep is told once that it is in.
    server, bot = await start_bot(fake_slack, services)
    try:
        told = await fake_slack.wait_for("chat.postMessage", 2)
        assert "is now in memory" in told[1]["text"]
        assert await services.index.waiting(TEAM_ID) == []
        entries = await services.memory.timeline(TEAM_ID, "priya-sharma")
        assert [e.note for e in entries] == [PRIYA_NOTE]
    finally:
        await server.close()
    assert len(fake_slack.called("chat.postMessage")) == 2


async def test_slack_error_is_logged_with_traceback_and_rep_is_told(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    bot.slack.errors["views.open"] = "expired_trigger_id"
    with caplog.at_level(logging.ERROR):
        await bot.send.command("/log", "Marcus Webb")
        shown = (await bot.slack.wait_for("respond"))[-1]
    assert "couldn't open the call form" in shown["text"]
    assert "Marcus Webb" in shown["text"]
    failure = next(r for r in caplog.records if "views.open failed" in r.getMessage())
    assert failure.exc_info is not None
    assert "expired_trigger_id" in str(failure.exc_info[1])


async def test_healthz_is_liveness_and_readyz_checks_memory_and_database(
    bot: RunningBot, fake_slack: FakeSlack, unreachable_memory: ProspectMemory, services: Services
) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(bot.base_url + "/readyz") as response:
            assert response.status == 200
            assert await response.json() == {"status": "ready", "memory": True, "database": True}
        down = Services(memory=unreachable_memory, index=services.index)
        server, down_bot = await start_bot(fake_slack, down)
        try:
            async with session.get(down_bot.base_url + "/readyz") as response:
                assert response.status == 503
                body = await response.json()
                assert body["memory"] is False and body["database"] is True
            # Alive all the same: a process that restarts would not bring memory back.
            async with session.get(down_bot.base_url + "/healthz") as response:
                assert response.status == 200
        finally:
            await server.close()


async def test_unsigned_requests_are_refused(bot: RunningBot) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(bot.send.events_url, data="command=/log&text=x") as response,
    ):
        assert response.status == 401
    assert bot.slack.called("views.open") == []


async def test_app_home_lists_only_the_reps_own_prospects(bot: RunningBot) -> None:
    view = await open_log_modal(bot)
    await submit(bot, view, view_id="V50", prospect="Marcus Webb", note="Lunch-and-learn.")
    status, _ = await bot.send.view_submission(
        filled_log_view(view, "Anika Patel", note="DPA with legal."), "V51", user="U0OTHER"
    )
    assert status == 200
    await bot.slack.wait_for("chat.postMessage", 2)

    # Logging a call refreshes the logging rep's own Home, and no one else's.
    await bot.slack.wait_for("views.publish", 2)
    assert {c["user_id"] for c in bot.slack.called("views.publish")} == {REP, "U0OTHER"}

    before = len(bot.slack.called("views.publish"))
    await bot.send.event({"type": "app_home_opened", "user": REP, "tab": "home"})
    published = (await bot.slack.wait_for("views.publish", before + 1))[-1]
    assert published["user_id"] == REP
    rendered = json.dumps(published["view"])
    assert "Marcus Webb" in rendered
    assert "Anika Patel" not in rendered
    assert "last contact 02 Nov (18 days of silence)" in rendered
    assert "_No brief yet_" in rendered


async def test_an_unexpected_failure_is_explained_not_silent(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    # A broken local index (its tables gone) is a failure no listener expects.
    with bot.services.index._engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE prospects")
    with caplog.at_level(logging.ERROR):
        await bot.send.command("/timeline", "James Okafor")
        shown = (await bot.slack.wait_for("respond"))[-1]
    assert "Something went wrong on my side" in shown["text"]
    ref = shown["text"].split("(reference ")[1][:8]
    assert any(r.exc_info for r in caplog.records if ref in r.getMessage())


async def test_a_confirmation_posted_while_its_call_is_erased_does_not_stay_in_the_dm(
    bot: RunningBot,
) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=bot.slack.api_url)
    told: list[str | None] = []

    async def erase_meanwhile(_: dict) -> None:
        # While Slack takes the confirmation, the rep forgets the prospect, to the receipt:
        # the erasure finds no confirmation recorded yet to delete.
        told.append(
            await confirm_forget(bot.services, client, TEAM_ID, REP, "Zoe Quill", "prospect")
        )

    bot.slack.before_answer["chat.postMessage"] = erase_meanwhile
    view = await open_log_modal(bot)
    assert await submit(bot, view, view_id="V-ERASE", prospect="Zoe Quill", note="ZQX-E1.") == {}

    [deleted] = await bot.slack.wait_for("chat.delete", timeout=30)
    confirmation, receipt = bot.slack.called("chat.postMessage")
    assert "Zoe Quill" in confirmation["text"] and told == [None]
    # What stays in the rep's DM is the receipt alone; nothing records the deleted message.
    assert (deleted["channel"], deleted["ts"]) not in bot.slack.posted
    assert len(bot.slack.posted) == 1 and "Zoe Quill" in receipt["text"]
    assert await bot.services.index.confirmations_of(("call-V-ERASE",)) == []
