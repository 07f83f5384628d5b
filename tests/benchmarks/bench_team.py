"""The team view's local part on a large workspace: reading every call from the index and
counting them, and how long the event loop is held meanwhile, counting inline against counting
in a worker thread (what `bot.team.summary.team_view` does).

    .venv/bin/python -m tests.benchmarks.bench_team --prospects 25000 --calls 10

Memory is not involved (its part is one listing per kind of objection, of labelled facts only).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bot.infra.memory_setup import objection_kinds
from bot.team.summary import summarize
from memory.index import LocalIndex
from memory.index_tables import calls, prospects

TODAY = date(2026, 11, 20)
OUTCOMES = ["positive", "objection", "neutral", "no_response", "closed_won", "closed_lost"]


def fill(index: LocalIndex, prospect_count: int, per_prospect: int, reps: int) -> None:
    rng = random.Random(7)
    with index._engine.begin() as conn:
        conn.execute(
            insert(prospects),
            [
                {"workspace_id": "T1", "slug": f"p{n}", "name": f"Prospect {n}", "company": ""}
                for n in range(prospect_count)
            ],
        )
        rows = [
            {
                "call_id": f"c{n}-{k}",
                "workspace_id": "T1",
                "slug": f"p{n}",
                "rep_id": f"U{n % reps:04}",
                "call_date": TODAY - timedelta(days=rng.randint(0, 400)),
                "outcome": rng.choice(OUTCOMES),
                "confirmed": 2,
            }
            for n in range(prospect_count)
            for k in range(per_prospect)
        ]
        for start in range(0, len(rows), 50_000):
            conn.execute(insert(calls), rows[start : start + 50_000])


async def longest_stall(work: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    """(seconds the work took, the longest the event loop went without running a tick)."""
    done = asyncio.Event()
    worst = 0.0

    async def heartbeat() -> None:
        nonlocal worst
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            worst = max(worst, now - last)
            last = now

    beat = asyncio.create_task(heartbeat())
    await asyncio.sleep(0.01)
    started = time.perf_counter()
    await work()
    took = time.perf_counter() - started
    done.set()
    await beat
    return took, worst


async def bench(args: argparse.Namespace, workdir: Path) -> None:
    index = LocalIndex.open(f"sqlite:///{workdir / 'index.db'}")
    try:
        fill(index, args.prospects, args.calls, args.reps)
        read_took, read_stall = await longest_stall(lambda: index.workspace_calls("T1"))
        rows = await index.workspace_calls("T1")
        names = {p.slug: p.name for p in await index.known_prospects("T1")}
        kinds = objection_kinds()

        def count() -> Any:
            return summarize(rows, {}, names, {}, TODAY, kinds)

        async def inline() -> Any:
            return count()

        inline_took, inline_stall = await longest_stall(inline)
        thread_took, thread_stall = await longest_stall(lambda: asyncio.to_thread(count))
        tracemalloc.start()
        await index.workspace_calls("T1")
        count()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        index.close()
    print(f"{len(rows):,} calls, {args.prospects:,} prospects, {args.reps} reps")
    print(f"read from the index: {read_took:.2f} s (event loop held at most {read_stall:.3f} s)")
    print(f"counting inline:     {inline_took:.2f} s (event loop held {inline_stall:.3f} s)")
    print(f"counting in a thread: {thread_took:.2f} s (event loop held {thread_stall:.3f} s)")
    print(f"longest hold, thread vs inline: {thread_stall / inline_stall:.3f}×")
    print(f"peak Python allocations for read + count: {peak / 1e6:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prospects", type=int, default=25_000)
    parser.add_argument("--calls", type=int, default=10, help="calls per prospect")
    parser.add_argument("--reps", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(bench(args, Path(tmp)))


if __name__ == "__main__":
    main()
