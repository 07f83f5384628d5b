"""Benchmark (not a test): the weekly digest.

    .venv/bin/python -m tests.benchmarks.bench_digest [--prospects 50] [--notes 20] [--reps 1000]

1. One rep with 50 prospects x 20 notes on the real Hindsight (chunks mode), Groq answering
   instantly (loopback), measured side by side in one run: `/brief` for one 20-note prospect
   (make_brief), the digest's gather and the whole digest (make_digest), the seeds' loop (one
   recall per prospect in turn, then one model call, as seed 000 does) and the per-prospect
   gather this replaced; digest / brief (goal <= 3x), seeds' loop / digest (goal >= 5x), and the
   HTTP requests each makes to Hindsight (counted by a loopback proxy).
2. 1,000 reps due at the same Monday 08:00, delivered by the scheduler against loopback Slack
   and Groq servers that enforce rate limits with 429 + Retry-After: total time, and whether
   every rep got exactly one DM.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.brief.prepare import make_brief
from bot.digest.gather import gather_contexts
from bot.digest.ranking import (
    DIGEST_TASK,
    build_digest_prompt,
    estimate_tokens,
    make_digest,
    prompt_share,
)
from bot.domain.recall import select_notes
from bot.infra.llm import LlmClient
from bot.scheduler import Scheduler
from bot.services import Services
from memory.index import DigestSetting, LocalIndex
from memory.prospects import prospect_slug
from memory.records import CallLog
from memory.store import ProspectMemory
from prompts import load_text
from tests.benchmarks.bench_brief import ANSWER
from tests.benchmarks.common import memory_at, run_with_hindsight
from tests.support.fake_groq import FakeGroq
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.hindsight_proxy import CapacityProxy
from tests.support.rate_limit import PerSecondLimit

TODAY = date(2026, 11, 23)
MONDAY_8_UTC = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
REP = "U0BIG"
_SAYS = [
    "Walked through pricing for {seats} seats; {first} wants a discount before signing and "
    "asked for a quote by Friday.",
    "Legal is reviewing the DPA; {first} expects comments within two weeks. No blocker yet.",
    "Security questionnaire returned and SOC 2 report shared; their CISO has follow-ups.",
    "{first} compared us with Stripe on price and API reliability; sent the SLA summary.",
    "Pilot scoped for four weeks with two teams; success criteria agreed with {first}.",
    "No answer to the follow-up email; left a voicemail and a short LinkedIn message.",
    "Demo for the wider team went well; {first} will bring the CFO to the next call.",
]
_FREEZE = "The CFO froze all new tool budget until Q3; {first} cannot sign before then."

# A brief whose next step cites the latest note (the others cite none and are dropped).
BRIEF_ANSWER: dict[str, Any] = {
    **ANSWER,
    "recommended_action": {
        "text": "Follow up.",
        "source_date": (TODAY - timedelta(days=3)).isoformat(),
    },
}


def note(rep: str, prospect: str, n: int) -> CallLog:
    """The prospect's n-th call back in time (0 = the latest, three days ago); every fifth
    prospect had its budget frozen long ago."""
    first = prospect.split()[0]
    says = _SAYS[(n + len(prospect)) % len(_SAYS)]
    if n == 15 and int(re.sub(r"\D", "", prospect) or 0) % 5 == 0:
        says = _FREEZE
    return CallLog(
        call_id=f"call-{uuid.uuid4().hex[:12]}",
        workspace_id=TEAM_ID,
        prospect=prospect,
        company="Acme",
        rep_id=rep,
        call_date=TODAY - timedelta(days=3 + 9 * n),
        outcome=("positive", "objection", "no_response")[n % 3],
        note=f"Call {n} with {prospect}. " + says.format(first=first, seats=10 + n),
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


def _answer(body: dict[str, Any]) -> tuple[str, Any]:
    """Groq's instant answer: a brief, or a ranking naming every prospect in the prompt."""
    if body["response_format"]["json_schema"]["name"] == "pre_call_brief":
        return "json", BRIEF_ANSWER
    return "json", _ranking(body)


def _ranking(body: dict[str, Any]) -> dict[str, Any]:
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    names = list(dict.fromkeys(re.findall(r'"name":"([^"]+)"', user)))
    return {
        "needs_attention": [],
        "on_track": [],
        "follow_up": [
            {"name": name, "reason": "Active.", "action": "Confirm the next step."}
            for name in names
        ],
    }


async def medians_ms(runs: int, steps: dict[str, Callable[[], Awaitable[Any]]]) -> dict[str, float]:
    """Each step's median time over `runs` rounds; a round runs every step once, in turn, so
    a machine that gets busier or quieter meanwhile weighs on all of them alike."""
    for step in steps.values():
        await step()  # warm: connections, the bank's set-up, the server's caches
    samples: dict[str, list[float]] = {label: [] for label in steps}
    for _ in range(runs):
        for label, step in steps.items():
            started = time.perf_counter()
            await step()
            samples[label].append((time.perf_counter() - started) * 1000)
    return {label: statistics.median(times) for label, times in samples.items()}


async def seeds_loop(services: Services, names: list[str]) -> None:
    """Seed 000's digest: one recall per prospect, in turn, then one model call over all."""
    assert services.llm is not None
    contexts = []
    for name in names:
        recalled = await services.memory.recall_prospect(
            TEAM_ID, prospect_slug(name), name, query=f"prospect interactions with {name}"
        )
        contexts.append({"name": name, "context": [m.text for m in recalled]})
    await services.llm.run(DIGEST_TASK, json.dumps(contexts, separators=(",", ":")), TEAM_ID)


async def per_prospect_gather(services: Services, names: list[str]) -> None:
    """The gather the listing replaced: each prospect's whole timeline (a listing and one
    document read per note) and a semantic recall, 8 prospects at a time."""
    semaphore = asyncio.Semaphore(8)

    async def one(name: str) -> None:
        slug = prospect_slug(name)
        async with semaphore:
            entries, recalled = await asyncio.gather(
                services.memory.timeline(TEAM_ID, slug),
                services.memory.recall_prospect(TEAM_ID, slug, name, max_tokens=1024),
            )
        select_notes([replace(e, note=e.note[:300]) for e in entries], recalled)

    await asyncio.gather(*(one(n) for n in names))


async def requests_made(proxy: CapacityProxy, step: Callable[[], Awaitable[Any]]) -> Counter[str]:
    """The HTTP requests one run of `step` makes to Hindsight, by kind."""
    await step()  # warm, so one-off set-up requests are not counted
    proxy.requests.clear()
    await step()
    kinds: Counter[str] = Counter()
    for method, path in proxy.requests:
        kind = re.sub(r"^/v1/default/banks/[^/]+", "", path)
        kinds[f"{method} {re.sub(r'/documents/.+', '/documents/{id}', kind)}"] += 1
    return kinds


async def pipeline_comparison(
    url: str, services: Services, prospects: int, notes: int, runs: int
) -> None:
    names = [f"Prospect {p:02d}" for p in range(prospects)]
    started = time.perf_counter()
    await retain_all(
        services.memory,
        services.index,
        [note(REP, name, n) for name in names for n in range(notes)],
    )
    filled = time.perf_counter() - started
    share = prompt_share(services)

    async def brief() -> None:
        result = await make_brief(services, TEAM_ID, names[0], rep_id=REP)
        assert result.brief is not None and result.facts.interactions == notes

    async def gather() -> None:
        contexts = await gather_contexts(services, TEAM_ID, REP, TODAY, notes_chars=share)
        assert len(contexts) == prospects

    async def digest() -> None:
        made = await make_digest(services, TEAM_ID, REP, TODAY)
        assert made is not None and made.fallback_reason is None
        assert len(made.items) == prospects

    async def seeds() -> None:
        await seeds_loop(services, names)

    timed = await medians_ms(
        runs, {"brief": brief, "gather": gather, "digest": digest, "seeds": seeds}
    )
    brief_ms, gather_ms, digest_ms, seeds_ms = (
        timed[k] for k in ("brief", "gather", "digest", "seeds")
    )
    started = time.perf_counter()
    await per_prospect_gather(services, names)
    before_ms = (time.perf_counter() - started) * 1000

    proxy = CapacityProxy(url, max_retains=1_000_000)
    await proxy.start()
    proxied_memory = memory_at(proxy.url, services.memory.bank_prefix)
    proxied = replace(services, memory=proxied_memory, outbox=None)
    counted = {
        "/brief": await requests_made(
            proxy, lambda: make_brief(proxied, TEAM_ID, names[0], rep_id=REP)
        ),
        "/digest": await requests_made(proxy, lambda: make_digest(proxied, TEAM_ID, REP, TODAY)),
        "seeds' loop": await requests_made(proxy, lambda: seeds_loop(proxied, names)),
        "per-prospect gather": await requests_made(
            proxy, lambda: per_prospect_gather(proxied, names)
        ),
    }
    contexts = await gather_contexts(services, TEAM_ID, REP, TODAY, notes_chars=share)
    prompt = build_digest_prompt(contexts, TODAY, services.digest_token_budget)
    tokens = estimate_tokens(load_text(DIGEST_TASK.system)) + estimate_tokens(prompt)
    await proxied_memory.aclose()
    await proxy.close()

    print(
        f"One rep, {prospects} prospects x {notes} notes ({prospects * notes} notes, filled in "
        f"{filled:.0f} s) on the real Hindsight, Groq answering instantly; median of {runs} "
        "rounds, each step in turn:"
    )
    rows = [
        (f"/brief, one {notes}-note prospect (make_brief)", f"{brief_ms:8.0f} ms", ""),
        ("digest: gather the pipeline", f"{gather_ms:8.0f} ms", ""),
        ("digest: gather + rank (make_digest)", f"{digest_ms:8.0f} ms", ""),
        ("digest / brief", f"{digest_ms / brief_ms:8.1f} x", "goal <= 3 x"),
        (f"seeds' loop: {prospects} recalls in turn + 1 call", f"{seeds_ms:8.0f} ms", ""),
        ("seeds' loop / digest", f"{seeds_ms / digest_ms:8.1f} x", "goal >= 5 x"),
        ("per-prospect gather it replaced (1 run)", f"{before_ms:8.0f} ms", ""),
        ("digest prompt (estimated)", f"{tokens:8d} tokens", ""),
    ]
    for label, value, goal in rows:
        print(f"  {label:44s} {value:14s} {goal}")
    print("  HTTP requests to Hindsight, one run each:")
    for label, kinds in counted.items():
        detail = ", ".join(f"{n} {kind}" for kind, n in kinds.most_common())
        print(f"    {label:20s} {sum(kinds.values()):5d}  ({detail})")
    shown = {c.name: c for c in contexts}
    frozen = [n for n in names if int(n.split()[1]) % 5 == 0 and notes > 15]
    kept = sum(
        "froze all new tool budget" in json.dumps(data)
        for data in json.loads(prompt.split("<prospects>\n")[1].split("\n</prospects>")[0])
        if data["name"] in frozen
    )
    recalled = sum(any("froze" in r.text for r in shown[n].relevant) for n in frozen)
    if frozen:
        print(
            f"  old budget freezes (note 15 of {notes}) the prompt still shows: {kept} of "
            f"{len(frozen)} (recall ranked it for {recalled})"
        )


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
    scheduler = Scheduler(with_llm, client, f"sqlite:///{workdir / 'jobs.db'}")
    await scheduler.start(paused=True)
    started = time.perf_counter()
    outcomes = await scheduler.digests.run_due(MONDAY_8_UTC)
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


async def bench(url: str, args: argparse.Namespace, workdir: Path) -> None:
    groq = FakeGroq(default=_answer)
    await groq.start()
    llm = LlmClient("gsk-bench", groq.base_url, "openai/gpt-oss-120b", 30.0, 0)
    memory = memory_at(url, f"bench-{uuid.uuid4().hex[:8]}")
    index = LocalIndex.open(f"sqlite:///{workdir / 'bench.db'}")
    services = Services(memory=memory, index=index, llm=llm, clock=lambda: MONDAY_8_UTC)
    await pipeline_comparison(url, services, args.prospects, args.notes, args.runs)
    if args.reps:
        await many_reps(services, args.reps, workdir, args.slack_rate, args.groq_rate)
    await memory.aclose()
    await llm.aclose()
    await groq.close()
    index.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prospects", type=int, default=50)
    parser.add_argument("--notes", type=int, default=20, help="notes per prospect")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each (median)")
    parser.add_argument("--reps", type=int, default=1000, help="0 skips the scheduler part")
    parser.add_argument("--slack-rate", type=int, default=40, help="Slack calls per second")
    parser.add_argument("--groq-rate", type=int, default=10, help="Groq requests per second")
    args = parser.parse_args()
    run_with_hindsight(lambda url, workdir: bench(url, args, workdir))


if __name__ == "__main__":
    main()
