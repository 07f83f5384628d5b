"""Cheap first, end to end: a brief the small model botches is answered by the large one, and
`/salesmemory stats` shows what that cost."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from bot.infra.llm import LlmClient
from bot.log.calls import log_call
from bot.services import Services
from tests.e2e.conftest import RunningBot, start_bot
from tests.e2e.test_brief import GOOD_ANSWER, PRIYA_NOTES, call
from tests.support.blocks import render
from tests.support.fake_groq import FakeGroq
from tests.support.fake_slack import FakeSlack

FAST, STRONG = "openai/gpt-oss-20b", "openai/gpt-oss-120b"


@pytest.fixture
async def cascade_bot(
    fake_slack: FakeSlack, services: Services, groq: FakeGroq
) -> AsyncIterator[RunningBot]:
    llm = LlmClient(
        "gsk-test",
        groq.base_url,
        STRONG,
        timeout=5.0,
        max_retries=0,
        fast_model=FAST,
        usage=services.index.record_llm_usage,
    )
    with_llm = replace(services, llm=llm)
    for n, (day, outcome, note) in enumerate(PRIYA_NOTES):
        await log_call(with_llm, call("Priya Sharma", day, outcome, note, n))
    server, running = await start_bot(fake_slack, with_llm)
    yield running
    await server.close()
    await llm.aclose()


async def test_a_botched_small_model_brief_is_escalated_and_counted(
    cascade_bot: RunningBot, groq: FakeGroq
) -> None:
    def by_model(body: dict[str, Any]) -> tuple[str, Any]:
        if body["model"] == FAST:  # the schema broken: a score out of words
            return "json", {**GOOD_ANSWER, "score": "seventy-two"}
        return "json", GOOD_ANSWER

    groq.default = by_model
    await cascade_bot.send.command("/brief", "Priya Sharma")
    shown = (await cascade_bot.slack.wait_for("respond"))[-1]
    assert "72/100 · Hot" in render(shown["blocks"])
    assert [r["model"] for r in groq.requests] == [FAST, STRONG]

    status, _ = await cascade_bot.send.command("/salesmemory", "stats")
    assert status == 200
    stats = render((await cascade_bot.slack.wait_for("respond", 2))[-1]["blocks"])
    assert "*brief* — 1 asked · 100% escalated" in stats
    assert f"`{FAST}`" in stats and f"`{STRONG}`" in stats


async def test_salesmemory_without_stats_explains_itself(cascade_bot: RunningBot) -> None:
    status, body = await cascade_bot.send.command("/salesmemory", "help me")
    assert status == 200 and "`/salesmemory stats`" in body
