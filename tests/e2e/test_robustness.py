"""Inputs Slack really sends, as a workspace would send them: retries, org-wide installs,
stale or forged buttons, and text that tries to ping everyone."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from typing import Any

import pytest

from bot.blocks import ids
from tests.e2e.conftest import RunningBot, filled_log_view
from tests.e2e.test_log_and_timeline import open_log_modal, submit
from tests.support.fake_slack import TEAM_ID
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
    bot.slack.errors["views.open"] = "expired_trigger_id"
    status, body = await bot.send.command("/log", name)
    acks.append(body)
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
    await bot.slack.wait_for("views.publish")
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


async def test_a_locked_database_delays_only_the_request_that_writes(bot: RunningBot) -> None:
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
        # Unrelated requests are answered while another process holds the write lock.
        status, body = await bot.send.command("/timeline", "")
        assert status == 200 and "Usage" in body
        view = await open_log_modal(bot, "Ada Lovelace")
        answer = await submit(bot, view, view_id="V-LOCK", prospect="Ada Lovelace", note="Q3.")
        # The save cannot be written ahead: the modal stays open, with everything typed in it.
        assert answer["response_action"] == "errors"
        assert "press Save again" in answer["errors"][ids.NOTE_BLOCK]
        assert locker.returncode is None, "the lock was released before the answers came"
    finally:
        locker.stdin.write(b"go\n")
        await locker.stdin.drain()
        await asyncio.wait_for(locker.wait(), 30)
    # What the rep was told failed did not happen, even now that the lock is gone (a blocked
    # write would take the lock within milliseconds of its release).
    await asyncio.sleep(1.0)
    assert await bot.services.index.waiting() == []
    assert await bot.services.index.known_prospects(TEAM_ID) == []
    # The rep edits the note and presses Save again: that is what is stored, once.
    answer = await submit(bot, view, view_id="V-LOCK", prospect="Ada Lovelace", note="Q3, firm.")
    assert answer == {}
    await bot.slack.wait_for("chat.postMessage")
    entries = await bot.services.memory.timeline(TEAM_ID, "ada-lovelace")
    assert [e.note for e in entries] == ["Q3, firm."]
