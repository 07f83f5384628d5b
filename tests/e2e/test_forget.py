"""Erasure end to end, against the real Hindsight and the local database: who may erase what,
exactly the calls there when it was confirmed, and nothing of them left behind."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.forget.erase import ForgetPlan, confirm_forget, finish, forget, resume_forgets
from bot.services import Services
from memory.embedded import EmbeddedHindsight
from memory.index import DealHealth, KeptDraft, LocalIndex
from memory.records import CallLog
from memory.store import ProspectMemory
from tests.conftest import NOW, own_bank_memory
from tests.e2e.conftest import RunningBot, filled_log_view, start_bot
from tests.e2e.test_log_and_timeline import open_log_modal, submit
from tests.memory.test_reasoning_memory import consolidated
from tests.support.blocks import buttons, render
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.hindsight_proxy import CapacityProxy
from tests.support.memory_residue import residue
from tests.support.slack_requests import REP
from tests.support.threaded_groq import ThreadedGroq

TEAMMATE = "U0MATE"
ADMIN = "U0ADMIN"


@pytest.fixture
def every_log() -> Iterator[list[logging.LogRecord]]:
    """Every record any logger emits at INFO or above while the test runs."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    root = logging.getLogger()
    handler, level = Keep(logging.INFO), root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield records
    root.removeHandler(handler)
    root.setLevel(level)


def logged_text(records: list[logging.LogRecord]) -> str:
    formatter = logging.Formatter()
    return "\n".join(
        r.getMessage() + (formatter.formatException(r.exc_info) if r.exc_info else "")
        for r in records
    )


async def log_nadia_and_omar(bot: RunningBot) -> None:
    view = await open_log_modal(bot)
    await submit(bot, view, view_id="V-N1", prospect="Nadia Rahman", note="Budget ZQX-N1 approved.")
    await submit(
        bot,
        view,
        view_id="V-N2",
        prospect="Nadia Rahman",
        note="DPA ZQX-N2 asked.",
        transcript="Full call ZQX-T2.",
    )
    await submit(bot, view, view_id="V-O1", prospect="Omar Haddad", note="Intro ZQX-O1 call.")
    await bot.slack.wait_for("chat.postMessage", 3, timeout=60)


async def teammate_says_hello(bot: RunningBot) -> None:
    """A teammate logs one line on the rep's prospect (as the issue's abuser would)."""
    before = len(bot.slack.called("chat.postMessage"))
    opened = len(bot.slack.called("views.open"))
    status, _ = await bot.send.command("/log", "", user=TEAMMATE)
    assert status == 200
    view = (await bot.slack.wait_for("views.open", opened + 1))[-1]["view"]
    filled = filled_log_view(view, prospect="Nadia Rahman", note="Quick hello ZQX-H1.")
    status, _ = await bot.send.view_submission(filled, "V-H1", user=TEAMMATE)
    assert status == 200
    await bot.slack.wait_for("chat.postMessage", before + 1, timeout=60)


async def forget_modal(bot: RunningBot, after: int = 0) -> dict:
    """The forget modal as the latest views.update made it (log forms are updated too)."""
    for _ in range(400):
        updates = [c["view"] for c in bot.slack.called("views.update")[after:]]
        mine = [v for v in updates if v.get("callback_id") == "forget_prospect"]
        if mine and "Counting" not in render(mine[-1]["blocks"]):
            return mine[-1]
        await asyncio.sleep(0.05)
    raise AssertionError("the forget modal was never updated")


async def ask_to_forget(bot: RunningBot, typed: str, user: str = REP) -> dict:
    before = len(bot.slack.responses)
    status, _ = await bot.send.command("/forget", typed, user=user)
    assert status == 200
    return (await bot.slack.wait_for("respond", before + 1))[-1]


async def review(bot: RunningBot, typed: str, user: str = REP) -> dict:
    """/forget, then its Review button: the confirmation modal as it ends up."""
    asked = await ask_to_forget(bot, typed, user)
    [button] = [b for b in buttons(asked["blocks"]) if b["action_id"] == "forget_review"]
    after = len(bot.slack.called("views.update"))
    await bot.send.block_action(button["action_id"], button["value"], user=user)
    return await forget_modal(bot, after)


async def confirm(bot: RunningBot, modal: dict, user: str = REP, receipts: int = 1) -> dict:
    """Confirm the modal; the DM the rep gets next (the receipt, or what comes later)."""
    to_rep = [c for c in bot.slack.called("chat.postMessage") if c["channel"] == user]
    status, _ = await bot.send.view_submission(modal, "V-FORGET", user=user)
    assert status == 200
    for _ in range(600):
        now = [c for c in bot.slack.called("chat.postMessage") if c["channel"] == user]
        if len(now) >= len(to_rep) + receipts:
            return now[-1]
        await asyncio.sleep(0.05)
    raise AssertionError("the rep heard nothing after confirming")


def database_files(services: Services) -> list[Path]:
    main = Path(str(services.index._engine.url.database))
    return [p for p in (main, Path(f"{main}-wal")) if p.exists()]


async def test_a_rep_erases_a_prospect_only_they_logged_and_nothing_of_it_is_left(
    bot: RunningBot, every_log: list[logging.LogRecord], hindsight_server: EmbeddedHindsight
) -> None:
    await log_nadia_and_omar(bot)
    index = bot.services.index
    await index.snooze(TEAM_ID, REP, "nadia-rahman", date(2026, 12, 1))
    await index.record_health(
        TEAM_ID, DealHealth("nadia-rahman", 70, "Hot", "stable", date(2026, 11, 20))
    )
    shown_at = datetime(2026, 11, 20, 9, tzinfo=UTC)
    await index.keep_draft(
        KeptDraft("b" * 32, TEAM_ID, REP, "Nadia Rahman", "N", "S", "Draft ZQX-D1", shown_at)
    )
    confirmations = [
        c for c in bot.slack.called("chat.postMessage") if "Nadia" in json.dumps(c.get("blocks"))
    ]
    assert len(confirmations) == 2

    modal = await review(bot, "nadia")
    said = render(modal["blocks"])
    assert "*Nadia Rahman* for everyone" in said and "2 calls" in said
    assert "It cannot be undone" in said
    assert await index.known_prospects(TEAM_ID) != []  # nothing erased before the confirmation

    receipt = await confirm(bot, modal)
    assert "*Nadia Rahman* is forgotten" in receipt["text"]
    assert "2 calls in memory (notes and transcripts" in receipt["text"]
    assert "and here." in receipt["text"]
    assert "deleted the 2 message(s) I had sent about them" in receipt["text"]
    assert "What I cannot remove" in receipt["text"]
    deleted = bot.slack.called("chat.delete")
    assert len(deleted) == 2 and all(d["channel"] == f"D{REP}" for d in deleted)

    memory = bot.services.memory
    assert await memory.listed_calls(TEAM_ID, "nadia-rahman") == []
    assert [p.slug for p in await index.known_prospects(TEAM_ID)] == ["omar-haddad"]
    assert await index.snoozed(TEAM_ID, REP, date(2026, 11, 20)) == {}
    assert await index.health_of(TEAM_ID, ["nadia-rahman"]) == {}
    assert await index.kept_draft(TEAM_ID, REP, "b" * 32, shown_at) is None
    assert len(await memory.listed_calls(TEAM_ID, "omar-haddad")) == 1  # the other stays

    # The audit keeps an opaque id and counts; no log line names the prospect or quotes a note.
    logs = logged_text(every_log)
    assert "erasure done id=" in logs and "documents=3" in logs
    for erased in ("ZQX-N1", "ZQX-N2", "ZQX-T2", "ZQX-D1", "Nadia", "nadia-rahman"):
        assert erased not in logs
    # Nor does any table of the memory server (the kept call proves the search finds text).
    dsn = hindsight_server.database_url()
    assert dsn is not None
    assert await asyncio.to_thread(residue, dsn, "ZQX-O1", memory.bank_id(TEAM_ID)) != []
    bank = memory.bank_id(TEAM_ID)
    for erased_text in ("ZQX-N1", "ZQX-N2", "ZQX-T2", "Nadia Rahman", "nadia-rahman"):
        assert await asyncio.to_thread(residue, dsn, erased_text, bank) == []
    # Nor do the local database's bytes, write-ahead log included.
    files = database_files(bot.services)
    assert files
    stored = b"".join(p.read_bytes() for p in files)
    assert b"ZQX-O1" not in stored  # delivered notes' text was dropped long ago
    for erased in (b"ZQX-N1", b"ZQX-N2", b"ZQX-T2", b"ZQX-D1", b"Nadia Rahman"):
        assert erased not in stored


@pytest.mark.parametrize("visibility", ["workspace", "own"])
async def test_a_teammate_erases_only_the_calls_they_logged(
    fake_slack: FakeSlack, services: Services, visibility: str
) -> None:
    server, bot = await start_bot(fake_slack, replace(services, notes_visibility=visibility))
    try:
        await log_nadia_and_omar(bot)
        await teammate_says_hello(bot)

        asked = await ask_to_forget(bot, "Nadia Rahman", user=TEAMMATE)
        assert "your 1 call" in render(asked["blocks"])
        modal = await review(bot, "Nadia Rahman", user=TEAMMATE)
        said = render(modal["blocks"])
        assert "the 1 call you logged" in said and "The 2 calls teammates logged stay" in said
        receipt = await confirm(bot, modal, user=TEAMMATE)
        assert "your calls with *Nadia Rahman* are forgotten" in receipt["text"]

        left = await bot.services.memory.listed_calls(TEAM_ID, "nadia-rahman")
        assert sorted(c.rep_id for c in left) == [REP, REP]  # the rep's history is whole
        known = await bot.services.index.prospect(TEAM_ID, "nadia-rahman")
        assert known is not None and known.interactions == 2
    finally:
        await server.close()


async def test_whole_prospects_are_for_admins_and_anyone_else_is_refused(bot: RunningBot) -> None:
    await log_nadia_and_omar(bot)
    refused = await ask_to_forget(bot, "Nadia Rahman", user=ADMIN)
    assert "You have logged no call with Nadia Rahman" in refused["text"]
    bot.slack.admins.add(ADMIN)
    modal = await review(bot, "Nadia Rahman", user=ADMIN)
    assert "*Nadia Rahman* for everyone" in render(modal["blocks"])
    unknown = await ask_to_forget(bot, "Zed Nobody")
    assert "nothing was erased" in unknown["text"]
    status, usage = await bot.send.command("/forget", "")
    assert status == 200 and "Usage: `/forget <prospect name>`" in usage
    assert len(await bot.services.memory.listed_calls(TEAM_ID, "nadia-rahman")) == 2


async def test_a_confirmation_made_stale_by_a_teammate_erases_nothing(bot: RunningBot) -> None:
    await log_nadia_and_omar(bot)
    modal = await review(bot, "Nadia Rahman")  # every call is the rep's: the whole prospect
    await teammate_says_hello(bot)
    said = await confirm(bot, modal)
    assert "changed since you opened this" in said["text"] and "Nothing was erased" in said["text"]
    assert len(await bot.services.memory.listed_calls(TEAM_ID, "nadia-rahman")) == 3


async def test_an_admin_finds_and_erases_any_prospect_under_own_visibility(
    fake_slack: FakeSlack, services: Services
) -> None:
    server, bot = await start_bot(fake_slack, replace(services, notes_visibility="own"))
    try:
        await log_nadia_and_omar(bot)
        hidden = await ask_to_forget(bot, "Nadia Rahman", user=TEAMMATE)
        assert "I don't know a prospect called that" in hidden["text"]
        fake_slack.admins.add(ADMIN)
        modal = await review(bot, "Nadia Rahman", user=ADMIN)
        receipt = await confirm(bot, modal, user=ADMIN)
        assert "*Nadia Rahman* is forgotten" in receipt["text"]
        assert await bot.services.memory.listed_calls(TEAM_ID, "nadia-rahman") == []
    finally:
        await server.close()


@contextlib.contextmanager
def stopped(server: EmbeddedHindsight) -> Iterator[Callable[[], None]]:
    """The memory server's API process stopped (SIGSTOP: hung, not refusing) until the
    returned function resumes it (or the block ends)."""
    pid = server._api.pid if server._api is not None else None
    assert pid is not None, "the session's memory server is not ours to stop"
    resumed = False

    def resume() -> None:
        nonlocal resumed
        if not resumed:
            os.kill(pid, signal.SIGCONT)
            resumed = True

    os.kill(pid, signal.SIGSTOP)
    try:
        yield resume
    finally:
        resume()


async def test_an_erasure_while_memory_is_stopped_answers_at_once_and_takes_only_the_calls_there(
    bot: RunningBot, fake_slack: FakeSlack, hindsight_server: EmbeddedHindsight
) -> None:
    await log_nadia_and_omar(bot)
    with stopped(hindsight_server) as resume:
        modal = await review(bot, "Nadia Rahman")  # counted from the local index
        assert "2 calls" in render(modal["blocks"])
        later = await confirm(bot, modal)
        assert "Memory has not finished its part yet" in later["text"]
        assert "You get the receipt then" in later["text"]
        # The rep logs a new call while memory is away: it must survive the erasure.
        view = await open_log_modal(bot)
        await submit(bot, view, view_id="V-N3", prospect="Nadia Rahman", note="New ZQX-N3 call.")
        resume()

    # The new call reaches memory (once the delivery worker's backoff ends) before the
    # erasure resumes: a deletion by the prospect's tag would take it now.
    for _ in range(600):
        if "call-V-N3" in [
            c.call_id for c in await bot.services.memory.listed_calls(TEAM_ID, "nadia-rahman")
        ]:
            break
        await asyncio.sleep(0.1)
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)
    assert await resume_forgets(bot.services, client) == 1
    [receipt] = [c for c in fake_slack.called("chat.postMessage") if "forgotten" in c["text"]]
    assert "*Nadia Rahman* is forgotten" in receipt["text"]
    left = await bot.services.memory.listed_calls(TEAM_ID, "nadia-rahman")
    assert [c.call_id for c in left] == ["call-V-N3"]


async def test_a_forget_memory_was_down_for_finishes_when_it_is_back_and_says_so(
    bot: RunningBot, fake_slack: FakeSlack, unreachable_memory: ProspectMemory
) -> None:
    await log_nadia_and_omar(bot)
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)
    now = datetime(2026, 11, 20, 10, tzinfo=UTC)
    down = replace(bot.services, memory=unreachable_memory, clock=lambda: now)
    said = await confirm_forget(down, client, TEAM_ID, REP, "Nadia Rahman", "prospect")
    assert said is not None and "go as soon as it can" in said
    # Nothing is reported as deleted that was not: no receipt yet, the documents still there.
    assert not any(
        "is forgotten" in c.get("text", "") for c in fake_slack.called("chat.postMessage")
    )
    assert len(await bot.services.memory.listed_calls(TEAM_ID, "nadia-rahman")) == 2

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
    assert "2 calls" in render(modal["blocks"])


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
        plan = ForgetPlan("nadia-rahman", "Nadia Rahman", "prospect", 1, 1)
        request = await forget(later, TEAM_ID, plan, REP)
        assert request.waiting == 1  # it was still waiting when the forget began
        assert await finish(later, client, request)
    finally:
        capacity_proxy.release.set()
        await asyncio.wait_for(sending, 30)
        await slow.aclose()
    # Memory took the note after the forget, and it was deleted on arrival.
    assert await services.memory.listed_calls(TEAM_ID, "nadia-rahman") == []
    assert await services.index.known_prospects(TEAM_ID) == []


async def test_a_review_someone_may_not_do_says_so_in_the_modal(bot: RunningBot) -> None:
    await log_nadia_and_omar(bot)
    await bot.send.block_action("forget_review", "Nadia Rahman", user=TEAMMATE)
    modal = await forget_modal(bot)
    assert "You have logged no call with Nadia Rahman" in render(modal["blocks"])
    assert "submit" not in modal  # nothing to confirm
    assert len(await bot.services.memory.listed_calls(TEAM_ID, "nadia-rahman")) == 2


async def test_a_call_memory_is_still_filing_goes_once_its_filing_ends(
    fake_slack: FakeSlack,
    reasoning_memory: ProspectMemory,
    reasoning_groq: ThreadedGroq,
    reasoning_hindsight_server: EmbeddedHindsight,
    index: LocalIndex,
) -> None:
    services = Services(memory=reasoning_memory, index=index, clock=lambda: NOW)
    server, bot = await start_bot(fake_slack, services)
    reasoning_groq.extraction_gate.clear()  # the model is slow: memory keeps filing the note
    try:
        view = await open_log_modal(bot)
        await submit(bot, view, view_id="V-P1", prospect="Priya Shah", note="Pilot ZQF-P1 agreed.")
        await bot.slack.wait_for("chat.postMessage", 1, timeout=60)  # memory took it: told
        for _ in range(600):
            if reasoning_groq.extractions_waiting:
                break
            await asyncio.sleep(0.1)
        assert reasoning_groq.extractions_waiting, "memory never began filing the note"
        assert await index.count_waiting() == 1  # the note stays here while it is filed

        later = await confirm(bot, await review(bot, "Priya Shah"))
        assert "still filing one of these notes" in later["text"]
        reasoning_groq.extraction_gate.set()  # the filing ends: its facts are written now
        client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)
        for _ in range(120):
            if await resume_forgets(services, client):
                break
            await asyncio.sleep(0.5)
        [receipt] = [c for c in fake_slack.called("chat.postMessage") if "forgotten" in c["text"]]
        assert "*Priya Shah* is forgotten" in receipt["text"]

        bank = reasoning_memory.bank_id(TEAM_ID)
        await consolidated(reasoning_hindsight_server, bank)
        assert await reasoning_memory.listed_calls(TEAM_ID, "priya-shah") == []
        dsn = reasoning_hindsight_server.database_url()
        assert dsn is not None
        for erased in ("ZQF-P1", "Priya Shah"):
            assert await asyncio.to_thread(residue, dsn, erased, bank) == []
    finally:
        reasoning_groq.extraction_gate.set()
        await server.close()


async def test_an_erasure_memory_refuses_is_said_once_and_tried_again_later(
    services: Services, fake_slack: FakeSlack, capacity_proxy: CapacityProxy
) -> None:
    note = CallLog(
        call_id="call-refused",
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
    await services.outbox.submit(note)
    assert await services.outbox.drain_once() == 1
    capacity_proxy.refuse_delete.add("call-refused")
    proxied = ProspectMemory.connect(capacity_proxy.url, services.memory.bank_prefix)
    now = [NOW]
    refusing = replace(services, memory=proxied, clock=lambda: now[0])
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)

    def dms() -> list[str]:
        return [c["text"] for c in fake_slack.called("chat.postMessage") if c["channel"] == REP]

    try:
        plan = ForgetPlan("nadia-rahman", "Nadia Rahman", "prospect", 1, 0)
        request = await forget(refusing, TEAM_ID, plan, REP)
        assert not await finish(refusing, client, request)
        [refused] = dms()
        assert "refused to delete" in refused and "*Nadia Rahman*" in refused
        assert await resume_forgets(refusing, client) == 0  # not due yet: nothing sent
        deletes = [r for r in capacity_proxy.requests if r[0] == "DELETE"]
        now[0] += timedelta(minutes=11)
        assert await resume_forgets(refusing, client) == 0  # tried again, refused again
        assert len([r for r in capacity_proxy.requests if r[0] == "DELETE"]) > len(deletes)
        assert dms() == [refused]  # the rep heard of it once

        capacity_proxy.refuse_delete.clear()
        now[0] += timedelta(minutes=11)
        assert await resume_forgets(refusing, client) == 1
        assert "*Nadia Rahman* is forgotten" in dms()[-1]
        assert await services.memory.listed_calls(TEAM_ID, "nadia-rahman") == []
    finally:
        await proxied.aclose()


@pytest.mark.parametrize("its_database", [False, True])
async def test_on_a_server_the_bot_does_not_own_an_erasure_deletes_memorys_operation_records(
    fake_slack: FakeSlack,
    reasoning_hindsight_server: EmbeddedHindsight,
    reasoning_hindsight_url: str,
    index: LocalIndex,
    its_database: bool,
) -> None:
    # Connected as to an external server: only its API, or (HINDSIGHT_DATABASE_URL) its
    # database too.
    server = reasoning_hindsight_server
    connected = (
        own_bank_memory(reasoning_hindsight_url, server)
        if its_database
        else own_bank_memory(reasoning_hindsight_url, None, server.api_key)
    )
    async with connected as external:
        services = Services(memory=external, index=index, clock=lambda: NOW)
        client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)
        note = CallLog(
            call_id="call-external",
            workspace_id=TEAM_ID,
            prospect="Nadia Rahman",
            company=None,
            rep_id=REP,
            call_date=date(2026, 11, 19),
            outcome="neutral",
            note="Security review ZQE-X1 is booked.",
            transcript=None,
            logged_at=datetime(2026, 11, 20, 9, tzinfo=UTC),
        )
        await services.outbox.submit(note)
        for _ in range(600):  # memory files it in its queue; the worker polls until done
            await services.outbox.drain_once()
            if not await index.count_waiting():
                break
            await asyncio.sleep(0.1)
        bank = external.bank_id(TEAM_ID)
        dsn = reasoning_hindsight_server.database_url()
        assert dsn is not None
        await consolidated(reasoning_hindsight_server, bank)
        # The note as sent waits in memory's operation record (the test can see the tables).
        assert "async_operations.task_payload" in await asyncio.to_thread(
            residue, dsn, "ZQE-X1", bank
        )

        named = await asyncio.to_thread(residue, dsn, "Nadia Rahman", bank)
        assert "entities.canonical_name" in named, named

        plan = ForgetPlan("nadia-rahman", "Nadia Rahman", "prospect", 1, 0)
        assert await finish(services, client, await forget(services, TEAM_ID, plan, REP))
        await consolidated(reasoning_hindsight_server, bank)
        assert await asyncio.to_thread(residue, dsn, "ZQE-X1", bank) == []
        # Nor is the prospect's name left in an entity only the erased note named.
        assert await asyncio.to_thread(residue, dsn, "Nadia Rahman", bank) == []
