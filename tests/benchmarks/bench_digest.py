"""Benchmark (not a test): the weekly digest.

    .venv/bin/python -m tests.benchmarks.bench_digest [--prospects 50] [--reps 1000]

1. One rep with 50 prospects on the real Hindsight: time to gather every context
   concurrently (bounded) versus one after another (the seeds' loop), and the prompt's size.
2. 1,000 reps due at the same Monday 08:00, delivered by the scheduler against loopback Slack
   and Groq servers that enforce rate limits with 429 + Retry-After: total time, and whether
   every rep got exactly one DM.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.digest import build_digest_prompt, estimate_tokens, gather_contexts
from bot.llm import LlmClient
from bot.scheduler import DigestScheduler
from bot.services import Services
from memory.index import DigestSetting, LocalIndex
from memory.records import CallLog
from memory.store import ProspectMemory
from prompts import load_text
from tests.benchmarks.common import run_with_hindsight
from tests.support.fake_groq import FakeGroq
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.rate_limit import PerSecondLimit

TODAY = date(2026, 11, 23)
MONDAY_8_UTC = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def note(rep: str, prospect: str, n: int) -> CallLog:
    return CallLog(
        call_id=f"call-{uuid.uuid4().hex[:12]}",
        workspace_id=TEAM_ID,
        prospect=prospect,
        company="Acme",
        rep_id=rep,
        call_date=TODAY - timedelta(days=3 + 9 * n),
        outcome=("positive", "objection", "no_response")[n % 3],
        note=f"Call {n} with {prospect}: pricing questions, legal review, next step agreed.",
        transcript=None,
        logged_at=datetime.now(UTC),
    )


async def retain_all(memory: ProspectMemory, index: LocalIndex, calls: list[CallLog]) -> None:
    semaphore = asyncio.Semaphore(8)

    async def one(call: CallLog) -> None:
        async with semaphore:
            await memory.retain_call(call)
        await index.record_delivered_call(call)

    await asyncio.gather(*(one(c) for c in calls))


async def gather_comparison(services: Services, prospects: int) -> None:
    rep = "U0BIG"
    await retain_all(
        services.memory,
        services.index,
        [note(rep, f"Prospect {p:02d}", n) for p in range(prospects) for n in range(4)],
    )
    timings = {}
    for label, concurrency in (("concurrent (8 at a time)", 8), ("one after another", 1)):
        started = time.perf_counter()
        contexts = await gather_contexts(services, TEAM_ID, rep, TODAY, concurrency=concurrency)
        timings[label] = time.perf_counter() - started
    prompt = build_digest_prompt(contexts, TODAY)
    tokens = estimate_tokens(load_text("digest_system.md")) + estimate_tokens(prompt)
    print(f"Gathering {len(contexts)} prospect contexts (4 notes each) on the real Hindsight:")
    for label, seconds in timings.items():
        print(f"  {label:26s} {seconds * 1000:8.0f} ms")
    print(f"  digest prompt              {tokens:8d} tokens (estimated, system + user)")


async def many_reps(
    services: Services, reps: int, workdir: Path, slack_rate: int, groq_rate: int
) -> None:
    slack = FakeSlack(limit=PerSecondLimit(slack_rate))
    groq = FakeGroq(limit=PerSecondLimit(groq_rate), default=lambda body: ("json", _ranking(body)))
    await slack.start()
    await groq.start()
    llm = LlmClient("gsk-bench", groq.base_url, "openai/gpt-oss-120b", 30.0, 5)
    with_llm = Services(memory=services.memory, index=services.index, llm=llm)
    ids = [f"U{n:05d}" for n in range(reps)]
    await retain_all(services.memory, services.index, [note(r, f"Lead of {r}", 0) for r in ids])
    for rep in ids:
        await services.index.save_digest_setting(DigestSetting(TEAM_ID, rep, "UTC"))
    client = AsyncWebClient(token="xoxb-bench", base_url=slack.api_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=20))
    scheduler = DigestScheduler(with_llm, client, f"sqlite:///{workdir / 'jobs.db'}")
    await scheduler.start(paused=True)
    started = time.perf_counter()
    outcomes = await scheduler.run_due(MONDAY_8_UTC)
    seconds = time.perf_counter() - started
    scheduler.shutdown()
    posted = slack.called("chat.postMessage")
    dms = Counter(c["channel"] for c in posted)
    by_facts = sum("Ordered by the facts" in str(c.get("blocks")) for c in posted)
    exactly_once = all(dms[f"D{r}"] == 1 for r in ids) and len(dms) == reps
    print(
        f"\n{reps} reps due at the same Monday 08:00; loopback Slack allows {slack_rate} "
        f"calls/s and Groq {groq_rate} requests/s, answering 429 + Retry-After beyond:"
    )
    print(f"  total time                 {seconds:8.1f} s")
    print(f"  outcomes                   {dict(Counter(o.value for o in outcomes.values()))}")
    print(f"  Slack 429s honoured        {slack.limit.refused:8d}")
    print(f"  Groq 429s honoured         {groq.limit.refused:8d}")
    print(f"  ranked by the model        {reps - by_facts:8d}")
    print(f"  ordered by facts (Groq still 429 after retries) {by_facts:d}")
    print(f"  every rep got exactly one DM: {'yes' if exactly_once else 'NO'}")
    await llm.aclose()
    await groq.close()
    await slack.close()


def _ranking(body: dict[str, Any]) -> dict[str, Any]:
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    name = user.split('"name":"')[1].split('"')[0]
    return {
        "needs_attention": [],
        "on_track": [],
        "follow_up": [{"name": name, "reason": "Active.", "action": "Confirm the next step."}],
    }


async def bench(url: str, args: argparse.Namespace, workdir: Path) -> None:
    memory = ProspectMemory.connect(url, f"bench-{uuid.uuid4().hex[:8]}")
    index = LocalIndex.open(f"sqlite:///{workdir / 'bench.db'}")
    services = Services(memory=memory, index=index)
    await gather_comparison(services, args.prospects)
    await many_reps(services, args.reps, workdir, args.slack_rate, args.groq_rate)
    await memory.aclose()
    index.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prospects", type=int, default=50)
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--slack-rate", type=int, default=40, help="Slack calls per second")
    parser.add_argument("--groq-rate", type=int, default=10, help="Groq requests per second")
    args = parser.parse_args()
    run_with_hindsight(lambda url, workdir: bench(url, args, workdir))


if __name__ == "__main__":
    main()
