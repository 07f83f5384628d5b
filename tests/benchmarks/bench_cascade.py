"""Benchmark (not a test): the cheap-first cascade over follow-up drafts.

    .venv/bin/python -m tests.benchmarks.bench_cascade [--requests 30] [--fail-share 0.3]
        [--fast-seconds 0.25] [--strong-seconds 0.8]

Logs the seeds' five-call deal (price, then compliance; Sarah Chen signs off) for 6 prospects
into the real Hindsight (embedded, or HINDSIGHT_URL), then drafts `--requests` follow-ups
through `make_followup` twice in one run: with the cascade (GROQ_MODEL_FAST first) and with
the strong model only. A loopback Groq answers every request; the small model's email breaks
the schema for `--fail-share` of the requests (a seeded draw), and each model takes its
`--*-seconds` to answer. Prints per task: questions, the share escalated, failures, mean and
p95 latency, tokens per question (the loopback counts four characters a token); then the
whole draft's p50/p95 and the cascade's figures divided by the strong-only ones.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bot.followup.draft import make_followup
from bot.infra.llm import LlmClient
from bot.log.calls import log_call
from bot.services import Services
from memory.index import LocalIndex
from memory.records import CallLog, LlmUsage
from tests.benchmarks.common import memory_at, run_with_hindsight
from tests.e2e.test_followup import ANALYSIS, CALLS, EMAIL
from tests.support.fake_groq import FakeGroq
from tests.support.fake_slack import TEAM_ID

FAST, STRONG = "openai/gpt-oss-20b", "openai/gpt-oss-120b"
PROSPECTS = 6
GOOD_EMAIL = {
    **EMAIL,
    "body": EMAIL["body"].replace(" To make it easy, the Enterprise tier is now $3,900/month.", ""),
}


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


async def fill(services: Services) -> list[str]:
    names = [f"Mike Reynolds {chr(ord('A') + n)}" for n in range(PROSPECTS)]
    for p, name in enumerate(names):
        for n, (day, outcome, note) in enumerate(CALLS):
            await log_call(
                services,
                CallLog(
                    call_id=f"call-{p}-{n}",
                    workspace_id=TEAM_ID,
                    prospect=name,
                    company="Northwind Logistics",
                    rep_id="U0REP1",
                    call_date=date.fromisoformat(day),
                    outcome=outcome,
                    note=note,
                    transcript=None,
                    logged_at=datetime.now(UTC),
                ),
            )
    return names


async def run(
    services: Services,
    groq: FakeGroq,
    names: list[str],
    requests: int,
    failing: set[int],
    cascade: bool,
) -> tuple[list[LlmUsage], list[float]]:
    usages: list[LlmUsage] = []

    async def keep(usage: LlmUsage) -> None:
        usages.append(usage)

    current = {"n": 0}

    def answer(body: dict[str, Any]) -> tuple[str, Any]:
        name = body.get("response_format", {}).get("json_schema", {}).get("name", "")
        if name == "followup_analysis":
            return "json", ANALYSIS
        if body["model"] == FAST and current["n"] in failing:
            return "json", {"subject": "Hi", "body": "no recipient"}
        return "json", GOOD_EMAIL

    groq.default = answer
    llm = LlmClient(
        "gsk-bench",
        groq.base_url,
        STRONG,
        30.0,
        0,
        fast_model=FAST if cascade else None,
        usage=keep,
    )
    drafts: list[float] = []
    try:
        for n in range(requests):
            current["n"] = n
            started = time.perf_counter()
            result = await make_followup(
                Services(memory=services.memory, index=services.index, llm=llm),
                TEAM_ID,
                names[n % len(names)],
                rep_id="U0REP1",
            )
            drafts.append((time.perf_counter() - started) * 1000)
            assert result.draft is not None, result.failure
    finally:
        await llm.aclose()
    return usages, drafts


def report(title: str, usages: list[LlmUsage], drafts: list[float]) -> dict[str, float]:
    print(f"\n{title}")
    columns = ("asked", "escalated", "failed", "mean ms", "p95 ms", "tokens/q")
    print(f"  {'task':8} " + " ".join(f"{c:>9}" for c in columns))
    totals = {"tokens": 0.0}
    for task in sorted({u.task for u in usages}):
        rows = [u for u in usages if u.task == task]
        latencies = [float(u.latency_ms) for u in rows]
        tokens = sum(u.prompt_tokens + u.completion_tokens for u in rows)
        totals["tokens"] += tokens
        print(
            f"  {task:8} {len(rows):9d} {sum(u.escalated for u in rows) / len(rows):9.0%} "
            f"{sum(not u.ok for u in rows):9d} {statistics.mean(latencies):9.0f} "
            f"{percentile(latencies, 95):9.0f} {tokens / len(rows):9.0f}"
        )
    totals["p50"], totals["p95"] = percentile(drafts, 50), percentile(drafts, 95)
    print(f"  whole draft: p50 {totals['p50']:.0f} ms, p95 {totals['p95']:.0f} ms")
    return totals


async def bench(url: str, workdir: Path, args: argparse.Namespace) -> None:
    groq = FakeGroq(latency={FAST: args.fast_seconds, STRONG: args.strong_seconds})
    await groq.start()
    memory = memory_at(url, f"bench-cascade-{uuid.uuid4().hex[:8]}")
    index = LocalIndex.open(f"sqlite:///{workdir / 'index.db'}")
    services = Services(memory=memory, index=index)
    try:
        names = await fill(services)
        draw = random.Random(7)  # the same requests fail in both runs
        failing = {n for n in range(args.requests) if draw.random() < args.fail_share}
        print(
            f"{args.requests} follow-ups over {PROSPECTS} prospects x {len(CALLS)} calls; the "
            f"small model breaks the email's schema for {len(failing)} of them (drawn at "
            f"{args.fail_share:.0%}); answers in "
            f"{args.fast_seconds:.2f} s (small) and {args.strong_seconds:.2f} s (large)"
        )
        runs = []
        for title, cascade in (("cheap first", True), ("large model only", False)):
            first = len(groq.requests)
            usages, drafts = await run(services, groq, names, args.requests, failing, cascade)
            totals = report(title, usages, drafts)
            totals["large"] = sum(r["model"] == STRONG for r in groq.requests[first:])
            print(f"  requests to the large model: {totals['large']:.0f}")
            runs.append(totals)
        ours, alone = runs
        print(
            "\ncheap first / large only (same fixture, one run): requests to the large model "
            f"{ours['large'] / alone['large']:.2f}x, all tokens "
            f"{ours['tokens'] / alone['tokens']:.2f}x, draft p50 {ours['p50'] / alone['p50']:.2f}x"
            f", p95 {ours['p95'] / alone['p95']:.2f}x"
        )
    finally:
        index.close()
        await memory.aclose()
        await groq.close()


def main() -> None:
    logging.getLogger("bot.infra.llm").setLevel(logging.ERROR)  # each escalation is counted instead
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--fail-share", type=float, default=0.3)
    parser.add_argument("--fast-seconds", type=float, default=0.25)
    parser.add_argument("--strong-seconds", type=float, default=0.8)
    args = parser.parse_args()
    run_with_hindsight(lambda url, workdir: bench(url, workdir, args))


if __name__ == "__main__":
    main()
