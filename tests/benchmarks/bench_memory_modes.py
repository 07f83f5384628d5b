"""Benchmark (not a test): memory without and with an LLM, side by side in one run.

    .venv/bin/python -m tests.benchmarks.bench_memory_modes [--notes 200]

For each mode it starts a real embedded Hindsight (chunks mode; then with its LLM pointed at a
loopback Groq that answers at once), submits the notes through the outbox and its delivery
worker, and prints the time from submit to the rep's confirmation and to "facts available"
(the note stored, or with an LLM its facts filed), then the brief for one prospect: its prompt
size and the time make_brief takes (the brief's own model answers at once on loopback too).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.brief.prepare import make_brief
from bot.digest.ranking import estimate_tokens
from bot.infra.llm import LlmClient
from bot.infra.memory_setup import sales_bank_setup
from bot.log.calls import log_call
from bot.services import Services
from memory.embedded import EmbeddedHindsight, HindsightLlm
from memory.index import LocalIndex
from memory.records import CallLog
from memory.store import ProspectMemory
from tests.e2e.test_brief import GOOD_ANSWER
from tests.support.fake_groq import FakeGroq
from tests.support.threaded_groq import ThreadedGroq

PROSPECTS = 20
SENTENCES = [
    "The price is too high for this quarter.",
    "Tom, the CFO, signs off on every purchase.",
    "They agreed to a two-week pilot.",
    "Security wants a SOC 2 report before legal starts.",
]


def note(n: int) -> CallLog:
    prospect = f"Bench Prospect {n % PROSPECTS:02d}"
    return CallLog(
        call_id=f"call-bench-{n}",
        workspace_id="TBENCH",
        prospect=prospect,
        company="Benchco",
        rep_id="UBENCH",
        call_date=date(2026, 11, 19) - timedelta(days=n // PROSPECTS),
        outcome="neutral",
        note=" ".join(SENTENCES[(n + k) % len(SENTENCES)] for k in range(2)),
        transcript=None,
        logged_at=datetime.now(UTC),
    )


async def one_mode(label: str, llm: HindsightLlm | None, notes: int, groq: FakeGroq) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedHindsight(Path(tmp), llm=llm)
        url = await asyncio.to_thread(server.start)
        index = LocalIndex.open(f"sqlite:///{tmp}/index.db")
        memory = ProspectMemory.connect(url, "bench", setup=sales_bank_setup())
        brief_llm = LlmClient("gsk-bench", groq.base_url, "openai/gpt-oss-120b", 30.0, 0)
        services = Services(memory=memory, index=index, llm=brief_llm)
        try:
            await log_call(services, note(notes))  # the bank set up, out of the timings
            confirmed: dict[str, float] = {}

            async def heard(call: CallLog) -> None:
                confirmed.setdefault(call.call_id, time.perf_counter())

            services.outbox.on_delivered = heard
            stop = asyncio.Event()
            worker = asyncio.create_task(services.outbox.run(stop))
            started = time.perf_counter()
            for n in range(notes):
                await services.outbox.submit(note(n))
            while await index.count_waiting():
                await asyncio.sleep(0.05)
            filed = time.perf_counter() - started
            stop.set()
            await worker
            to_confirm = sorted(t - started for t in confirmed.values())

            groq.default = lambda body: ("json", GOOD_ANSWER)
            latencies = []
            for _ in range(5):
                before = len(groq.requests)
                t0 = time.perf_counter()
                await make_brief(services, "TBENCH", "Bench Prospect 03")
                latencies.append(time.perf_counter() - t0)
                prompt = groq.user_prompt(before)
            return {
                "mode": label,
                "confirm_p50": statistics.median(to_confirm),
                "confirm_max": to_confirm[-1],
                "facts": filed,
                "prompt_tokens": estimate_tokens(prompt),
                "brief_p50": statistics.median(latencies),
            }
        finally:
            await brief_llm.aclose()
            await memory.aclose()
            index.close()
            await asyncio.to_thread(server.stop)


async def bench(notes: int) -> None:
    hindsight_groq = ThreadedGroq()
    hindsight_groq.start()
    brief_groq = FakeGroq()
    await brief_groq.start()
    try:
        llm = HindsightLlm("gsk-bench", "openai/gpt-oss-20b", hindsight_groq.openai_base)
        rows = [
            await one_mode("chunks (no LLM)", None, notes, brief_groq),
            await one_mode("with an LLM", llm, notes, brief_groq),
        ]
    finally:
        await brief_groq.close()
        hindsight_groq.close()
    print(f"{notes} notes submitted at once, 20 prospects; loopback Groq answers at once.")
    print(
        f"{'mode':18s} {'confirm p50':>12s} {'confirm max':>12s} {'facts avail.':>13s} "
        f"{'brief prompt':>13s} {'brief p50':>10s}"
    )
    for r in rows:
        print(
            f"{r['mode']:18s} {r['confirm_p50']:11.2f}s {r['confirm_max']:11.2f}s "
            f"{r['facts']:12.2f}s {r['prompt_tokens']:9d} tok {r['brief_p50'] * 1000:8.0f}ms"
        )
    chunks, reasoning = rows
    ratios = {key: reasoning[key] / chunks[key] for key in ("confirm_p50", "facts", "brief_p50")}
    print(
        f"with an LLM / chunks: confirmation p50 x{ratios['confirm_p50']:.1f}, "
        f"facts available x{ratios['facts']:.1f}, brief x{ratios['brief_p50']:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notes", type=int, default=200)
    asyncio.run(bench(parser.parse_args().notes))


if __name__ == "__main__":
    main()
