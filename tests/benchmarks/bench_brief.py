"""Benchmark (not a test): /brief latency with Groq answering instantly.

    .venv/bin/python -m tests.benchmarks.bench_brief [--runs 50]

Prints the median time from slash command to ack and to the posted brief, and the median of
each part measured on its own: recall from Hindsight, prompt building, the model call and the
post to Slack. Uses the real embedded Hindsight (or HINDSIGHT_URL), loopback Slack and Groq.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bot.brief.prepare import (
    BRIEF_QUERY,
    BRIEF_TASK,
    build_brief_prompt,
    check_brief_answer,
)
from bot.domain.deal_facts import BriefFacts
from bot.domain.recall import select_notes
from bot.infra.llm import LlmClient
from bot.log.calls import log_call
from bot.services import Services
from memory.index import LocalIndex
from memory.records import CallLog
from tests.benchmarks.common import memory_at, run_with_hindsight
from tests.e2e.conftest import start_bot
from tests.support.fake_groq import FakeGroq
from tests.support.fake_slack import TEAM_ID, FakeSlack

ANSWER: dict[str, Any] = {
    "score": 64,
    "label": "Hot",
    "momentum": "stable",
    "confidence": "medium",
    "summary": "Moving.",
    "objections": [],
    "budget_signals": [],
    "competitors": [],
    "decision_makers": [],
    "commitments": [],
    "risks": [],
    "focus": [],
    "recommended_action": {"text": "Follow up.", "source_date": "2026-11-01"},
}


async def median_ms(runs: int, step: Callable[[], Awaitable[Any]]) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await step()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def bench(hindsight_url: str, runs: int, workdir: Path) -> None:
    slack, groq = FakeSlack(), FakeGroq(default=lambda body: ("json", ANSWER))
    await slack.start()
    await groq.start()
    memory = memory_at(hindsight_url, f"bench-{uuid.uuid4().hex[:8]}")
    index = LocalIndex.open(f"sqlite:///{workdir / 'bench.db'}")
    llm = LlmClient("gsk-bench", groq.base_url, "openai/gpt-oss-120b", 10.0, 0)
    services = Services(memory=memory, index=index, llm=llm)
    for n in range(12):
        await log_call(
            services,
            CallLog(
                call_id=f"call-{n}",
                workspace_id=TEAM_ID,
                prospect="James Okafor",
                company="Paysend",
                rep_id="U0REP1",
                call_date=date(2026, 11, 1) - timedelta(days=7 * n),
                outcome="neutral",
                note=f"Call {n}: API reliability, pricing vs Stripe, next steps.",
                transcript=None,
                logged_at=datetime.now(UTC),
            ),
        )
    server, bot = await start_bot(slack, services)

    ack_ms, brief_ms = [], []
    for _ in range(runs):
        before = len(slack.responses)
        started = time.perf_counter()
        await bot.send.command("/brief", "James Okafor")
        ack_ms.append((time.perf_counter() - started) * 1000)
        await slack.wait_for("respond", before + 1)
        brief_ms.append((time.perf_counter() - started) * 1000)

    entries = await memory.timeline(TEAM_ID, "james-okafor")
    recalled = await memory.recall_prospect(TEAM_ID, "james-okafor", "James Okafor")
    facts = BriefFacts.from_timeline(entries, date.today())
    notes = select_notes(entries, recalled)
    prompt = build_brief_prompt("James Okafor", "Paysend", facts, notes)

    async def recall() -> None:
        await memory.timeline(TEAM_ID, "james-okafor")
        await memory.recall_prospect(
            TEAM_ID, "james-okafor", "James Okafor", query=BRIEF_QUERY.format(name="James Okafor")
        )

    async def build() -> None:
        build_brief_prompt("James Okafor", "Paysend", facts, select_notes(entries, recalled))

    async def model() -> None:
        await llm.run(BRIEF_TASK, prompt, "", check_brief_answer)

    async def post() -> None:
        async with aiohttp.ClientSession() as session:
            await session.post(slack.response_url(), json={"text": "x", "blocks": []})

    print(f"/brief over {runs} runs (median), Groq answering instantly, 12 notes:")
    print(f"  command -> ack            {statistics.median(ack_ms):8.2f} ms")
    print(f"  command -> posted brief   {statistics.median(brief_ms):8.2f} ms")
    print(f"  recall (timeline+recall)  {await median_ms(runs, recall):8.2f} ms")
    print(f"  prompt building           {await median_ms(runs, build):8.2f} ms")
    print(f"  model call (loopback)     {await median_ms(runs, model):8.2f} ms")
    print(f"  Slack post (loopback)     {await median_ms(runs, post):8.2f} ms")
    print(f"  prompt size               {len(prompt):8d} chars")

    await server.close()
    await llm.aclose()
    await memory.aclose()
    index.close()
    await groq.close()
    await slack.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    run_with_hindsight(lambda url, workdir: bench(url, args.runs, workdir))


if __name__ == "__main__":
    main()
