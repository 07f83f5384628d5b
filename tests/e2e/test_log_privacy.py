"""The bot's log at INFO, every logger (ours, Bolt's, SQLAlchemy's, the HTTP clients'), holds
no note text after the main flows ran, even where the model's answers quote the notes."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import pytest

from bot.infra.llm import LlmClient
from bot.services import Services
from tests.e2e.conftest import RunningBot, start_bot
from tests.e2e.test_brief import GOOD_ANSWER
from tests.e2e.test_log_and_timeline import open_log_modal, submit
from tests.support.blocks import render
from tests.support.fake_groq import FakeGroq
from tests.support.fake_slack import FakeSlack

FAST, STRONG = "openai/gpt-oss-20b", "openai/gpt-oss-120b"
MARKER = "qx7731zebra"
PROSPECT = "Vesna Horvat"
CALL_DAY = "2026-11-10"
NOTE = (
    f"Loved the ROI calculator; Tom Reyes (CFO) signs off. Budget frozen until Q3. "
    f"Data migration from HubSpot worries her. Codename {MARKER}."
)
TRANSCRIPT = f"Vesna: the {MARKER} rollout waits for the migration plan."


def _on_call_day(answer: dict[str, Any]) -> dict[str, Any]:
    return json.loads(re.sub(r"2026-\d\d-\d\d", CALL_DAY, json.dumps(answer)))


BRIEF = _on_call_day(GOOD_ANSWER)
# A claim dated on no note is dropped (and logged as dropped): it quotes the note.
BRIEF["risks"] = [*BRIEF["risks"], {"text": f"{MARKER} may slip", "source_date": "2001-01-01"}]
DIGEST = {
    "needs_attention": [
        {"name": PROSPECT, "reason": f"{MARKER} waits on migration.", "action": "Call Tom."},
        {"name": f"Ghost {MARKER}", "reason": f"{MARKER}", "action": f"{MARKER}"},
    ],
    "follow_up": [],
    "on_track": [],
}
ANALYSIS = {
    "blocker": f"The data migration from HubSpot ({MARKER}).",
    "blocker_dates": [CALL_DAY],
    "history": [{"blocker": "budget", "since_date": CALL_DAY}],
    "decider": {
        "name": "Tom Reyes",
        "role": "decision_maker",
        "authority": "CFO, signs off",
        "source_date": CALL_DAY,
    },
    "recipient": {"name": "Tom Reyes", "reason": "He signs off."},
}
EMAIL = {
    "to": "Tom Reyes",
    "subject": "The HubSpot migration plan",
    "body": f"Hi Tom,\n\nThe migration plan for {MARKER} is on its way.\n\nBest,",
}


def answer(body: dict[str, Any]) -> tuple[str, Any]:
    """The small model breaks every schema by quoting the note; the large one answers."""
    schema = str(body.get("response_format", {}).get("json_schema", {}).get("name", ""))
    good = copy.deepcopy(
        {
            "pre_call_brief": BRIEF,
            "weekly_digest": DIGEST,
            "followup_analysis": ANALYSIS,
            "followup_email": EMAIL,
        }[schema]
    )
    if body["model"] == FAST:
        return "json", {**good, MARKER: "the schema's complaint names this key"}
    return "json", good


class _Kept(logging.Handler):
    """Every record as the bot's handler would write it, traceback included."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.name, self.format(record)))


@pytest.fixture
def kept_log() -> Iterator[_Kept]:
    """A handler on the root logger at INFO, as `python -m bot` sets it up; SQLAlchemy's
    engine logs its statements at INFO too (a deployment may turn that on)."""
    root, engine = logging.getLogger(), logging.getLogger("sqlalchemy.engine")
    levels = root.level, engine.level
    handler = _Kept()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    engine.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        engine.setLevel(levels[1])


@pytest.fixture
async def privacy_bot(
    fake_slack: FakeSlack, services: Services, groq: FakeGroq
) -> AsyncIterator[RunningBot]:
    usage = services.index.record_llm_usage
    llm = LlmClient("gsk-test", groq.base_url, STRONG, 5.0, 0, fast_model=FAST, usage=usage)
    server, running = await start_bot(fake_slack, replace(services, llm=llm))
    yield running
    await server.close()
    await llm.aclose()


async def shown_after(bot: RunningBot, command: str, text: str = "") -> dict[str, Any]:
    """The answer with blocks the command posts (a text-only answer of an earlier command,
    such as /digest's, may still arrive meanwhile)."""
    before = len(bot.slack.called("respond"))
    status, _ = await bot.send.command(command, text)
    assert status == 200
    for _ in range(1200):
        shown = [r for r in bot.slack.called("respond")[before:] if r.get("blocks")]
        if shown:
            return shown[-1]
        await asyncio.sleep(0.05)
    raise AssertionError(f"{command} showed nothing")


async def test_no_logger_at_info_carries_note_text_through_log_brief_digest_and_followup(
    privacy_bot: RunningBot, groq: FakeGroq, kept_log: _Kept
) -> None:
    bot = privacy_bot
    groq.default = answer

    view = await open_log_modal(bot, PROSPECT)
    fields = {"prospect": PROSPECT, "call_date": CALL_DAY, "note": NOTE, "transcript": TRANSCRIPT}
    assert await submit(bot, view, **fields) == {}
    [confirmation] = await bot.slack.wait_for("chat.postMessage", timeout=60)
    assert PROSPECT in confirmation["text"]

    brief = await shown_after(bot, "/brief", PROSPECT)
    assert "72/100 · Hot" in render(brief["blocks"])

    status, _ = await bot.send.command("/digest")
    assert status == 200
    dms = await bot.slack.wait_for("chat.postMessage", 2, timeout=60)
    assert f"{MARKER} waits on migration" in render(dms[-1]["blocks"])

    draft = await shown_after(bot, "/followup", PROSPECT)
    assert "*To:* Tom Reyes" in render(draft["blocks"])

    names = {name for name, _ in kept_log.lines}
    lines = [line for _, line in kept_log.lines]
    # The capture saw the paths that used to quote notes, and every kind of logger.
    assert {"bot.infra.llm", "httpx", "aiohttp.access"} <= names
    assert any(name.startswith("sqlalchemy.engine") for name in names)
    assert any("Dropped a claim with no matching note" in line for line in lines)
    assert any("Digest named a prospect the rep does not have" in line for line in lines)
    assert any("was invalid: schema failure" in line for line in lines)
    leaked = [line for line in lines if MARKER in line]
    assert leaked == []
    # Nor the prospect, by name or slug: ids and counts say enough at INFO.
    assert [line for line in lines if "vesna" in line.lower()] == []
