"""Hostile input, signed as Slack signs it, gets a plain answer and never a database error:
names past the limit, bodies Bolt cannot read, requests naming no workspace or no user."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.blocks import ids
from bot.blocks.messages import NO_WORKSPACE
from memory.prospects import MAX_PROSPECT_NAME, NAME_TOO_LONG
from tests.e2e.conftest import RunningBot, filled_log_view
from tests.e2e.test_log_and_timeline import open_log_modal, submit
from tests.support.fake_slack import TEAM_ID
from tests.support.slack_requests import REP

# 10,000 characters either way: thousands of words (one LIKE each) or one huge word.
MANY_WORDS = " ".join("abcdefghij"[i % 10] for i in range(5000)) + "k"
ONE_WORD = "a" * 10_000
LONG_NAMES = pytest.mark.parametrize("typed", [MANY_WORDS, ONE_WORD], ids=["words", "word"])


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger's records, from DEBUG up."""
    with caplog.at_level(logging.DEBUG):
        yield caplog


def assert_no_error_logged(logs: pytest.LogCaptureFixture) -> None:
    bad = [r for r in logs.records if r.levelno >= logging.ERROR or r.exc_info]
    assert bad == [], [f"{r.name}: {r.getMessage()[:200]}" for r in bad]


async def last_response(bot: RunningBot, count: int = 1) -> dict[str, Any]:
    return (await bot.slack.wait_for("respond", count))[-1]


@LONG_NAMES
@pytest.mark.parametrize("command", ["/brief", "/timeline", "/followup", "/forget"])
async def test_a_prospect_past_the_limit_in_a_command_gets_the_limit(
    bot: RunningBot, logs: pytest.LogCaptureFixture, command: str, typed: str
) -> None:
    status, _ = await bot.send.command(command, typed)
    assert status == 200
    shown = await last_response(bot)
    assert shown["text"] == NAME_TOO_LONG
    assert f"at most {MAX_PROSPECT_NAME} characters" in NAME_TOO_LONG
    assert_no_error_logged(logs)


@LONG_NAMES
async def test_log_with_a_prospect_past_the_limit_opens_the_form_empty_and_says_why(
    bot: RunningBot, logs: pytest.LogCaptureFixture, typed: str
) -> None:
    view = await open_log_modal(bot, typed)
    prospect = next(b for b in view["blocks"] if b["block_id"] == ids.PROSPECT_BLOCK)
    assert "initial_option" not in prospect["element"]
    shown = await last_response(bot)
    assert shown["text"].startswith(NAME_TOO_LONG)
    assert_no_error_logged(logs)


@LONG_NAMES
async def test_a_log_form_with_a_prospect_past_the_limit_keeps_the_rest_and_names_the_field(
    bot: RunningBot, logs: pytest.LogCaptureFixture, typed: str
) -> None:
    view = await open_log_modal(bot)
    answer = await submit(bot, view, prospect=typed, note="Budget approved for Q1.")
    assert answer == {"response_action": "errors", "errors": {ids.PROSPECT_BLOCK: NAME_TOO_LONG}}
    assert await bot.services.index.known_prospects(TEAM_ID) == []
    assert bot.slack.called("chat.postMessage") == []
    assert_no_error_logged(logs)


@LONG_NAMES
@pytest.mark.parametrize("action", [ids.OPEN_BRIEF_ACTION + "_0", ids.OPEN_TIMELINE_ACTION + "_0"])
async def test_a_button_carrying_a_prospect_past_the_limit_gets_the_limit(
    bot: RunningBot, logs: pytest.LogCaptureFixture, action: str, typed: str
) -> None:
    status, _ = await bot.send.block_action(action, typed)
    assert status == 200
    assert (await last_response(bot))["text"] == NAME_TOO_LONG
    assert_no_error_logged(logs)


@LONG_NAMES
async def test_a_page_button_carrying_a_slug_past_the_limit_gets_the_limit(
    bot: RunningBot, logs: pytest.LogCaptureFixture, typed: str
) -> None:
    value = json.dumps({"slug": typed.replace(" ", "-"), "page": 1})
    status, _ = await bot.send.block_action(ids.TIMELINE_PAGE_ACTION + "_older", value)
    assert status == 200
    assert (await last_response(bot))["text"] == NAME_TOO_LONG
    assert_no_error_logged(logs)


@LONG_NAMES
async def test_a_typeahead_query_past_the_limit_offers_nothing_without_an_error(
    bot: RunningBot, logs: pytest.LogCaptureFixture, typed: str
) -> None:
    status, body = await bot.send.options(ids.PROSPECT_ACTION, typed)
    assert status == 200
    assert json.loads(body) == {"options": []}
    assert_no_error_logged(logs)


async def test_a_snooze_menu_naming_a_slug_past_the_limit_is_refused_plainly(
    bot: RunningBot, logs: pytest.LogCaptureFixture
) -> None:
    status, _ = await bot.send.home_action(
        {
            "type": "overflow",
            "action_id": ids.HOME_SNOOZE_ACTION,
            "block_id": ids.HOME_PROSPECT_BLOCK + ONE_WORD,
            "selected_option": {"value": "week"},
        }
    )
    assert status == 200
    told = await bot.slack.wait_for("chat.postMessage")
    assert told[-1]["channel"] == REP
    assert await bot.services.index.known_prospects(TEAM_ID) == []
    assert_no_error_logged(logs)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("payload=garbage", "application/x-www-form-urlencoded"),
        ("payload=" + json.dumps([1, 2]), "application/x-www-form-urlencoded"),
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
        ('"text"', "application/json"),
    ],
    ids=["form-garbage", "form-list", "json-garbage", "json-list", "json-string"],
)
async def test_a_body_that_is_not_a_json_object_gets_400(
    bot: RunningBot, logs: pytest.LogCaptureFixture, body: str, content_type: str
) -> None:
    status, _ = await bot.send.post(body, content_type=content_type)
    assert status == 400
    assert_no_error_logged(logs)
    # The app still serves the next request.
    status, _ = await bot.send.command("/timeline", "Nobody Known")
    assert status == 200
    await bot.slack.wait_for("respond")


def command_body(bot: RunningBot, **fields: str) -> str:
    """A slash command's form, with only `fields` beside the command and its response URL."""
    return urlencode(
        {
            "command": "/brief",
            "text": "Priya Sharma",
            "api_app_id": "A0APP",
            "response_url": bot.slack.response_url(),
            "trigger_id": f"trigger-{time.monotonic_ns()}",
            **fields,
        }
    )


@pytest.mark.parametrize(
    "fields", [{"team_id": TEAM_ID}, {"user_id": REP}, {}], ids=["no-user", "no-team", "neither"]
)
async def test_a_command_naming_no_user_or_team_is_answered_at_once(
    bot: RunningBot, logs: pytest.LogCaptureFixture, fields: dict[str, str]
) -> None:
    started = time.monotonic()
    status, body = await bot.send.post(command_body(bot, **fields))
    assert time.monotonic() - started < 3
    assert (status, body) == (200, NO_WORKSPACE)
    assert any("named no workspace or no user" in r.getMessage() for r in logs.records)
    assert_no_error_logged(logs)


async def test_a_form_submitted_without_its_user_stays_open_and_says_why(
    bot: RunningBot, logs: pytest.LogCaptureFixture
) -> None:
    view = await open_log_modal(bot)
    filled = filled_log_view(view, "Priya Sharma", note="Budget approved.")
    started = time.monotonic()
    status, body = await bot.send.interaction(
        {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": "test"},
            "api_app_id": "A0APP",
            "view": {**filled, "id": "V-NOUSER", "team_id": TEAM_ID},
        }
    )
    assert time.monotonic() - started < 3
    assert status == 200
    # The form stays open, with everything typed in it, and says why on its first field.
    assert json.loads(body) == {
        "response_action": "errors",
        "errors": {ids.PROSPECT_BLOCK: NO_WORKSPACE},
    }
    assert await bot.services.index.known_prospects(TEAM_ID) == []
    assert_no_error_logged(logs)


async def test_a_button_naming_no_user_or_team_is_answered_plainly(
    bot: RunningBot, logs: pytest.LogCaptureFixture
) -> None:
    started = time.monotonic()
    status, _ = await bot.send.interaction(
        {
            "type": "block_actions",
            "api_app_id": "A0APP",
            "trigger_id": f"trigger-{time.monotonic_ns()}",
            "response_url": bot.slack.response_url(),
            "container": {"type": "message", "message_ts": "1.1", "channel_id": "C0CHAN"},
            "actions": [
                {"type": "button", "action_id": ids.OPEN_BRIEF_ACTION + "_0", "value": "Priya"}
            ],
        }
    )
    assert time.monotonic() - started < 3
    assert status == 200
    assert (await last_response(bot))["text"] == NO_WORKSPACE
    assert_no_error_logged(logs)


async def test_a_typeahead_naming_no_user_or_team_offers_nothing(
    bot: RunningBot, logs: pytest.LogCaptureFixture
) -> None:
    status, body = await bot.send.interaction(
        {
            "type": "block_suggestion",
            "api_app_id": "A0APP",
            "action_id": ids.PROSPECT_ACTION,
            "block_id": ids.PROSPECT_BLOCK,
            "value": "pri",
        }
    )
    assert (status, json.loads(body)) == (200, {"options": []})
    assert any("named no workspace or no user" in r.getMessage() for r in logs.records)
    assert_no_error_logged(logs)
