"""Inputs Slack really sends, as a workspace would send them: retries, org-wide installs,
stale or forged buttons, and text that tries to ping everyone."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.blocks import ids
from bot.log.calls import log_call
from bot.services import Services
from memory.index import LocalIndex
from memory.index_base import _POOL_THREADS as POOL_THREADS
from memory.records import CallLog
from memory.store import ProspectMemory
from tests.e2e.conftest import RunningBot, filled_log_view, start_bot
from tests.e2e.test_log_and_timeline import open_log_modal, submit
from tests.support.blocks import render
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.hindsight_proxy import CapacityProxy
from tests.support.slack_requests import REP

PING = "<!channel>"
# Every way a Slack text can ping, link or mention; none may come from what a rep typed.
_SPECIAL = re.compile(r"<[!@#]|<https?:|<mailto:")


# Never parsed by Slack for mentions or links: plain_text objects and what buttons,
# options and modals carry back to the app.
_INERT_KEYS = {"value", "initial_option", "private_metadata", "action_id", "block_id", "state"}


def outgoing_texts(bot: RunningBot, acks: list[str]) -> list[str]:
    """Every string Slack would render as mrkdwn or message text: Web API calls,
    response_url posts and HTTP acks."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            if value.get("type") == "plain_text":
                return
            for key, item in value.items():
                if key not in _INERT_KEYS:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for call in bot.slack.calls:
        walk(call.args)
    walk(bot.slack.responses)
    for ack in acks:
        walk(json.loads(ack) if ack.startswith("{") else ack)
    return found


async def test_org_wide_install_with_team_null_can_log_and_search(bot: RunningBot) -> None:
    view = await open_log_modal(bot)
    status, body = await bot.send.view_submission(
        filled_log_view(view, "Grace Hopper", note="Org-wide install; budget approved."),
        "V-ORG",
        org_wide=True,
    )
    assert status == 200 and body == ""
    await bot.slack.wait_for("chat.postMessage")
    # The bank is the rep's workspace (Bolt reads it from user.team_id when team is null).
    entries = await bot.services.memory.timeline(TEAM_ID, "grace-hopper")
    assert [e.note for e in entries] == ["Org-wide install; budget approved."]

    status, body = await bot.send.options(ids.PROSPECT_ACTION, "grace", org_wide=True)
    assert status == 200
    assert [o["value"] for o in json.loads(body)["options"]] == ["Grace Hopper", "grace"]


@pytest.mark.parametrize(
    "value", ["not json", '{"slug": "anika-patel", "page": "abc"}', "[]", '{"page": 1}', ""]
)
async def test_a_forged_or_stale_page_button_gets_a_short_message(
    bot: RunningBot, value: str
) -> None:
    status, _ = await bot.send.block_action(ids.TIMELINE_PAGE_ACTION + "_older", value)
    assert status == 200
    shown = (await bot.slack.wait_for("respond"))[-1]
    assert "out of date" in shown["text"]


@pytest.mark.parametrize("action", [ids.OPEN_BRIEF_ACTION + "_0", ids.OPEN_TIMELINE_ACTION + "_0"])
async def test_a_prospect_button_with_no_name_gets_a_short_message(
    bot: RunningBot, action: str
) -> None:
    await bot.send.block_action(action, "   ")
    shown = (await bot.slack.wait_for("respond"))[-1]
    assert "out of date" in shown["text"]


async def test_a_broken_typeahead_still_offers_the_typed_name(bot: RunningBot) -> None:
    with bot.services.index._engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE calls")
    status, body = await bot.send.options(ids.PROSPECT_ACTION, "Ada Lovelace")
    assert status == 200
    assert [o["value"] for o in json.loads(body)["options"]] == ["Ada Lovelace"]


async def test_text_that_tries_to_ping_never_reaches_slack_raw(bot: RunningBot) -> None:
    acks = []
    name = f"Eve {PING} <@U0BOSS> `x"
    for command, text in [
        ("/log", name),
        ("/log", name + " " + "x" * 80),
        ("/brief", name),
        ("/timeline", name),
        ("/digest", f"{PING} `closed` <https://evil.example|click>"),
        ("/digest", f"settings {PING} 9"),
    ]:
        status, body = await bot.send.command(command, text)
        assert status == 200
        acks.append(body)
    # Both forms were asked for (the sign those listeners ran) before Slack starts refusing.
    await bot.slack.wait_for("views.open", 2)
    bot.slack.errors["views.open"] = "expired_trigger_id"
    status, body = await bot.send.command("/log", name)
    acks.append(body)
    await bot.slack.wait_for("views.open", 3)  # refused while the error stands
    del bot.slack.errors["views.open"]

    view = await open_log_modal(bot)
    await submit(
        bot,
        view,
        view_id="V-PING",
        prospect=f"Mallory {PING}",
        company=f"Acme {PING}",
        note=f"Told them {PING} and <@U0BOSS> and <https://evil.example|this>.",
        transcript=f"{PING} everyone",
    )
    await bot.slack.wait_for("chat.postMessage")
    await bot.send.command("/timeline", f"Mallory {PING}")
    await bot.send.command("/brief", "Mallory")
    await bot.send.event({"type": "app_home_opened", "user": REP, "tab": "home"})
    # Every listener that could write a text has written it: the first form brought up to
    # date once the rep's zone was learnt, Home opened and refreshed after the log, and the
    # six answers (every command's that answers by response_url).
    await bot.slack.wait_for("views.update")
    await bot.slack.wait_for("views.publish", 2)
    await bot.slack.wait_for("respond", 6)

    texts = outgoing_texts(bot, acks)
    assert any("Mallory" in t for t in texts) and any("Eve" in t for t in texts)
    # The only mention the bot writes itself is "logged by <@REP>" in a timeline.
    leaks = [t for t in texts if _SPECIAL.search(t.replace(f"<@{REP}>", ""))]
    assert leaks == []
    # A code span around typed text cannot be closed by a backtick in it.
    not_understood = acks[4]
    assert "didn't understand" in not_understood and "`closed`" not in not_understood


LOCKER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
db.execute("BEGIN IMMEDIATE")
db.execute("INSERT INTO prospects (workspace_id, slug, name, company) VALUES ('X', 'x', 'x', '')")
print("locked", flush=True)
sys.stdin.readline()
db.execute("ROLLBACK")
"""


async def saves_finished(index: LocalIndex) -> None:
    """Return once every save queued before this call has ended: one task per save thread, each
    waiting for all the others, can only run when no thread is busy with anything else."""
    threads = POOL_THREADS["save"]
    barrier = threading.Barrier(threads, timeout=30)
    loop = asyncio.get_running_loop()
    pool = index._pools["save"]
    await asyncio.gather(*(loop.run_in_executor(pool, barrier.wait) for _ in range(threads)))


@contextlib.asynccontextmanager
async def locked_database(bot: RunningBot) -> AsyncIterator[None]:
    """Another process holds the index's write lock until the block ends."""
    path = bot.services.index._engine.url.database
    locker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        LOCKER,
        str(path),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert locker.stdout is not None and locker.stdin is not None
    assert (await locker.stdout.readline()).strip() == b"locked"
    try:
        yield
        assert locker.returncode is None, "the lock was released before the answers came"
    finally:
        locker.stdin.write(b"go\n")
        await locker.stdin.drain()
        await asyncio.wait_for(locker.wait(), 30)


async def test_a_locked_database_delays_only_the_request_that_writes(bot: RunningBot) -> None:
    async with locked_database(bot):
        # Unrelated requests are answered while another process holds the write lock.
        status, body = await bot.send.command("/timeline", "")
        assert status == 200 and "Usage" in body
        view = await open_log_modal(bot, "Ada Lovelace")
        answer = await submit(bot, view, view_id="V-LOCK", prospect="Ada Lovelace", note="Q3.")
        # The save cannot be written ahead: the modal stays open, with everything typed in it.
        assert answer["response_action"] == "errors"
        assert "press Save again" in answer["errors"][ids.NOTE_BLOCK]
    # What the rep was told failed did not happen, even now that the lock is gone: once every
    # save thread is free, a write still blocked on the lock would have landed.
    await saves_finished(bot.services.index)
    assert await bot.services.index.waiting() == []
    assert await bot.services.index.known_prospects(TEAM_ID) == []
    # The rep edits the note and presses Save again: that is what is stored, once.
    answer = await submit(bot, view, view_id="V-LOCK", prospect="Ada Lovelace", note="Q3, firm.")
    assert answer == {}
    await bot.slack.wait_for("chat.postMessage")
    entries = await bot.services.memory.timeline(TEAM_ID, "ada-lovelace")
    assert [e.note for e in entries] == ["Q3, firm."]


async def test_a_save_on_a_locked_database_is_answered_within_slacks_three_seconds(
    bot: RunningBot,
) -> None:
    view = await open_log_modal(bot, "Ada Lovelace")
    async with locked_database(bot):
        # Requests arriving just before the save wait on their retry claims too, as in a busy
        # workspace: neither their claims nor the save's own may push its answer past 3 s.
        others = [asyncio.create_task(bot.send.command("/timeline", "")) for _ in range(3)]
        started = time.monotonic()
        answer = await submit(bot, view, view_id="V-LOCK", prospect="Ada Lovelace", note="Q3.")
        answered_in = time.monotonic() - started
        assert [status for status, _ in await asyncio.gather(*others)] == [200] * 3
    assert "press Save again" in answer["errors"][ids.NOTE_BLOCK]
    # Slack's contract, not a benchmark: an ack after 3 s is a failed request for the rep.
    assert answered_in < 3.0


async def test_a_slow_memory_answer_delays_only_the_request_that_waits_for_it(
    fake_slack: FakeSlack, services: Services, capacity_proxy: CapacityProxy
) -> None:
    memory = ProspectMemory.connect(capacity_proxy.url, services.memory.bank_prefix)
    slow = Services(memory=memory, index=services.index, clock=services.clock)
    for n, prospect in enumerate(["Alice Slowman", "Bruno Quick"]):
        await log_call(slow, call(prospect, n, f"{prospect} asked for the security report."))
    # Memory takes its time over anything about Alice; everything else it answers at once.
    capacity_proxy.hold = lambda method, path, body: b"alice" in path.encode() + body.lower()
    server, bot = await start_bot(fake_slack, slow)
    try:
        status, ack = await bot.send.command("/brief", "Alice Slowman")
        assert status == 200 and "Recalling" in ack
        for _ in range(200):
            if capacity_proxy.held:
                break
            await asyncio.sleep(0.05)
        assert capacity_proxy.held, "the brief never asked memory about Alice"

        # While memory sits on Alice's brief, Bruno's is answered in full, and so is the rest.
        await bot.send.command("/brief", "Bruno Quick")
        shown = (await fake_slack.wait_for("respond"))[-1]
        assert "Bruno Quick asked for the security report." in render(shown["blocks"])
        status, options = await bot.send.options(ids.PROSPECT_ACTION, "bru")
        assert status == 200 and "Bruno Quick" in options
        await open_log_modal(bot, "Alice Slowman")
        assert not [r for r in fake_slack.called("respond") if "Alice" in json.dumps(r)]

        capacity_proxy.release.set()
        shown = (await fake_slack.wait_for("respond", 2))[-1]
        assert "Alice Slowman asked for the security report." in render(shown["blocks"])
    finally:
        capacity_proxy.release.set()
        await server.close()
        await memory.aclose()


def call(prospect: str, n: int, note: str) -> CallLog:
    return CallLog(
        call_id=f"call-slow-{n}",
        workspace_id=TEAM_ID,
        prospect=prospect,
        company="",
        rep_id=REP,
        call_date=date(2026, 11, 2),
        outcome="neutral",
        note=note,
        transcript=None,
        logged_at=datetime(2026, 11, 20, 9, n, tzinfo=UTC),
    )
