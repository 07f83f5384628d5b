"""Benchmark (not a test): one workspace bank at pipeline scale.

    .venv/bin/python -m tests.benchmarks.bench_memory_scale [--reps 100] [--prospects 50]
        [--notes 50] [--batch 250] [--concurrency 2] [--samples 100] [--planted 20]
        [--grow-to N] [--ask] [--home DIR [--skip-fill]] [--server-env KEY=VALUE ...]

    e.g. 10% filled through retains, then grown to 250,000 (about 20 minutes on 2 cores):
        ... --reps 10 --grow-to 250000

Fills ONE bank with reps × prospects × notes call notes written through the memory layer (the
items `ProspectMemory` builds for a logged call: the note as content, context, metadata, tags
`prospect:<slug>`, `rep:<id>`, `type:call_log`, the call id as document id), in bulk retains,
and prints the fill throughput. Then, for `--samples` random prospects, the latency of the
brief's recall (`recall_prospect` with `BRIEF_QUERY`, as /brief calls it) and how many of the
prospect's notes it returned; for `--planted` prospects whose history holds one distinctive
"budget frozen until Q3" note, whether that note came back; the server's resident memory and
the size of its data.

`--grow-to N` (embedded server only) then copies the bank's rows in SQL until it holds N
memory units (see scale_sql.py: what a copy is and is not) and checks recall again, over
prospects of every copy: the recall check of a 250,000-note bank in minutes instead of hours
of retains. With the embedded server it also prints which index served the recalls.

`--ask` then times, in one run on the (grown) bank, the brief, a question naming one prospect
and a question across one rep's whole pipeline (bench_ask's steps, loopback Groq answering at
once), for a rep of the original rows: their calls go into a local index as the log path puts
them there, which is where asking dates and places what it recalls.

Uses the embedded Hindsight (in a temporary directory, or `--home` to keep the filled bank for
later runs with `--skip-fill`), or HINDSIGHT_URL. `--server-env` sets a HINDSIGHT_API_* setting
of the embedded server for this run (to try a tuning before it goes into memory/embedded.py).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from datetime import time as dt_time
from pathlib import Path
from typing import Any

from hindsight_client import Hindsight
from hindsight_client_api.exceptions import ApiException

import memory.embedded as embedded_module
from bot.brief.prepare import BRIEF_QUERY
from bot.infra.llm import LlmClient
from bot.infra.memory_setup import sales_bank_setup
from bot.services import Services
from memory import reaper
from memory.embedded import EmbeddedHindsight
from memory.index import LocalIndex
from memory.records import CallLog, prospect_tag
from memory.store import ProspectMemory
from tests.benchmarks.bench_ask import brief_against_ask, groq_for_the_bot
from tests.benchmarks.common import API_KEY, memory_at
from tests.benchmarks.scale_notes import TODAY, WORKSPACE, Prospect, call_id, calls, prospects
from tests.benchmarks.scale_sql import database_url, grow_bank, index_scans

BANK_PREFIX = "bench-scale"


async def fill(
    url: str,
    memory: ProspectMemory,
    stream: Iterator[CallLog],
    total: int,
    batch: int,
    concurrency: int,
) -> float:
    """Retain everything in batches, `concurrency` requests at a time; returns seconds taken."""
    await memory.configure_bank(WORKSPACE)
    await memory.reasons()  # the items record how they were filed, as in production
    bank = memory.bank_id(WORKSPACE)
    client = Hindsight(base_url=url, api_key=os.environ.get(API_KEY), timeout=900.0)
    queue: asyncio.Queue[list[dict[str, Any]] | None] = asyncio.Queue(maxsize=concurrency * 2)
    done = 0
    busy_waits = 0
    started = time.perf_counter()
    next_report = max(total // 10, 1)

    async def worker() -> None:
        nonlocal done, busy_waits, next_report
        while (items := await queue.get()) is not None:
            while True:
                try:
                    await client.aretain_batch(bank_id=bank, items=items)
                    break
                except ApiException as exc:
                    if exc.status not in (429, 503):
                        raise
                    busy_waits += 1
                    await asyncio.sleep(2.0)
            done += len(items)
            if done >= next_report:
                next_report += max(total // 10, 1)
                elapsed = time.perf_counter() - started
                print(
                    f"  {done:>9,} / {total:,} notes  {elapsed:8.1f} s  "
                    f"{done / elapsed:7.1f} notes/s",
                    flush=True,
                )

    workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
    try:
        items: list[dict[str, Any]] = []
        for call in stream:
            # The very items ProspectMemory.retain_call sends for a logged call.
            items.extend(memory._items(call))
            if len(items) >= batch:
                await queue.put(items)
                items = []
        if items:
            await queue.put(items)
        for _ in workers:
            await queue.put(None)
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
        await client.aclose()
    if busy_waits:
        print(f"  ({busy_waits} batches waited on a 503 'at capacity' and were sent again)")
    return time.perf_counter() - started


def _proc_kb(pid: int, field: str, name: str = "status") -> int:
    try:
        for line in Path(f"/proc/{pid}/{name}").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree(root: int) -> list[int]:
    """`root` and all its descendants."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def print_server_memory(server: EmbeddedHindsight) -> None:
    roles = reaper.processes_of(server.home)
    api = [p for root, r in roles.items() if r == "hindsight-api" for p in _tree(root)]
    pg = [p for root, r in roles.items() if r == "postgres" for p in _tree(root)]
    api_mb = sum(_proc_kb(p, "VmRSS") for p in api) / 1024
    # PSS: PostgreSQL's backends share their buffers; RSS would count them once per backend.
    pg_mb = sum(_proc_kb(p, "Pss", "smaps_rollup") for p in pg) / 1024
    data_mb = sum(f.stat().st_size for f in (server.home / "pg").rglob("*") if f.is_file())
    print(
        f"Server resident memory: hindsight-api {api_mb:,.0f} MB (RSS), PostgreSQL "
        f"{pg_mb:,.0f} MB (PSS, {len(pg)} processes), total {api_mb + pg_mb:,.0f} MB"
    )
    print(f"Server data on disk: {data_mb / 2**20:,.0f} MB")


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def recall_check(
    memory: ProspectMemory,
    sample: list[Prospect],
    notes: int,
    planted: dict[Prospect, str],
) -> None:
    """Brief recall for each sampled prospect: latency, and whether it returned every note;
    for each planted prospect, whether the planted note (its call id) came back."""

    async def recall(who: Prospect) -> list[Any]:
        return await memory.recall_prospect(
            WORKSPACE, who.slug, who.name, query=BRIEF_QUERY.format(name=who.name)
        )

    await recall(sample[0])  # out of the timings: the first query embedding warms the model
    latencies, returned, foreign = [], [], 0
    for who in sample:
        started = time.perf_counter()
        recalled = await recall(who)
        latencies.append((time.perf_counter() - started) * 1000)
        returned.append(len({r.document_id for r in recalled}))
        foreign += sum(1 for r in recalled if prospect_tag(who.slug) not in r.tags)
    complete = sum(1 for n in returned if n >= notes)
    print(
        f"  brief recall latency p50 {percentile(latencies, 0.5):7.1f} ms   "
        f"p99 {percentile(latencies, 0.99):7.1f} ms   (over {len(sample)} prospects)"
    )
    print(
        f"  notes returned per prospect (of {notes}): min {min(returned)}, "
        f"median {statistics.median(returned):g}; all {notes} for {complete}/{len(sample)} "
        f"prospects; memories of another prospect: {foreign}"
    )
    if planted:
        found = 0
        for who, wanted in planted.items():
            found += any(r.document_id == wanted for r in await recall(who))
        print(
            f"  planted 'budget frozen until Q3' note recalled for {found}/{len(planted)} prospects"
        )


async def checked(
    memory: ProspectMemory,
    server: EmbeddedHindsight | None,
    sample: list[Prospect],
    notes: int,
    planted: dict[Prospect, str],
) -> None:
    """The recall check, with (embedded server) the index scans it caused."""
    bank = memory.bank_id(WORKSPACE)
    before = await index_scans(database_url(server), bank) if server else None
    await recall_check(memory, sample, notes, planted)
    if server is not None and before is not None:
        after = await index_scans(database_url(server), bank)
        print(
            f"  index scans meanwhile: tag index (GIN) {after['tags'] - before['tags']}, "
            f"the bank's vector index (HNSW) {after['vector'] - before['vector']}"
        )
        print_server_memory(server)


async def ask_check(
    memory: ProspectMemory, stream: Iterator[CallLog], who: Prospect, runs: int, workdir: Path
) -> None:
    """The brief against asking, for `who` and across the pipeline their rep may see: their
    own prospects (NOTES_VISIBILITY=own), then every prospect of the original rows."""
    index = LocalIndex.open(f"sqlite:///{workdir / 'ask-index.db'}")
    groq = groq_for_the_bot()
    await groq.start()
    llm = LlmClient("gsk-bench", groq.base_url, "openai/gpt-oss-120b", 60.0, 0)
    morning = datetime.combine(TODAY, dt_time(9), UTC)
    services = Services(memory=memory, index=index, llm=llm, clock=lambda: morning)
    try:
        started = time.perf_counter()
        for call in stream:
            await index.record_delivered_call(call)
        print(f"  the calls put in a local index in {time.perf_counter() - started:,.0f} s")
        for visibility in ("own", "workspace"):
            print(f"  NOTES_VISIBILITY={visibility}:")
            seen = replace(services, notes_visibility=visibility)
            await brief_against_ask(seen, groq, WORKSPACE, who.rep_id, who.name, runs)
    finally:
        await llm.aclose()
        await groq.close()
        index.close()


async def bench(url: str, args: argparse.Namespace, server: EmbeddedHindsight | None) -> None:
    everyone = prospects(args.reps, args.prospects, args.seed)
    total = len(everyone) * args.notes
    rng = random.Random(args.seed + 2)
    planted_at = {
        i: rng.randrange(args.notes)
        for i in rng.sample(range(len(everyone)), min(args.planted, len(everyone)))
    }
    planted = {everyone[i].slug: n for i, n in planted_at.items()}
    memory = memory_at(url, BANK_PREFIX, setup=sales_bank_setup(), timeout=120.0)
    try:
        print(
            f"One bank: {args.reps} reps × {args.prospects} prospects × {args.notes} notes "
            f"= {total:,} notes"
        )
        if args.skip_fill:
            print("Fill skipped (--skip-fill): using the bank already in --home")
        else:
            print(f"Filling in batches of {args.batch}, {args.concurrency} requests at a time:")
            stream = calls(everyone, args.notes, planted, args.seed)
            seconds = await fill(url, memory, stream, total, args.batch, args.concurrency)
            print(f"Filled {total:,} notes in {seconds:,.1f} s = {total / seconds:,.1f} notes/s")
        if server is not None:
            print_server_memory(server)
        print(f"Recall in the bank of {total:,} notes:")
        await checked(
            memory,
            server,
            rng.sample(everyone, min(args.samples, len(everyone))),
            args.notes,
            {everyone[i]: call_id(i, n) for i, n in planted_at.items()},
        )
        if args.grow_to and server is not None:
            await grown(memory, server, args, everyone, planted_at, rng)
        if args.ask:
            print(f"Asking, {args.samples} runs:")
            stream = calls(everyone, args.notes, planted, args.seed)
            with tempfile.TemporaryDirectory() as tmp:
                await ask_check(memory, stream, everyone[0], args.samples, Path(tmp))
    finally:
        await memory.aclose()


async def grown(
    memory: ProspectMemory,
    server: EmbeddedHindsight,
    args: argparse.Namespace,
    everyone: list[Prospect],
    planted_at: dict[int, int],
    rng: random.Random,
) -> None:
    """Grow the bank to --grow-to by copying its rows, then check recall again."""
    total = len(everyone) * args.notes
    copies = math.ceil(args.grow_to / total) - 1
    print(
        f"Growing the bank to {(copies + 1) * total:,} memory units: {copies} SQL copies "
        "of its rows (scale_sql.py), then ANALYZE"
    )
    seconds = await grow_bank(database_url(server), memory.bank_id(WORKSPACE), copies)
    print(f"Grown in {seconds:,.0f} s")
    print(
        f"Recall in the bank grown to {(copies + 1) * total:,} memory units, prospects of "
        "every copy:"
    )
    await checked(
        memory,
        server,
        [who.copy(rng.randrange(copies + 1)) for who in rng.sample(everyone, len(everyone))][
            : args.samples
        ],
        args.notes,
        {
            everyone[i].copy(k): call_id(i, n)
            for i, n in planted_at.items()
            for k in {0, copies // 2, copies}
        },
    )


def with_server_env(extra: dict[str, str]) -> None:
    """Give the embedded server these HINDSIGHT_API_* settings on top of its own."""
    if not extra:
        return
    original = embedded_module._hindsight_env

    def patched(*args: Any, **kwargs: Any) -> dict[str, str]:
        return {**original(*args, **kwargs), **extra}

    embedded_module._hindsight_env = patched


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--prospects", type=int, default=50, help="per rep")
    parser.add_argument("--notes", type=int, default=50, help="per prospect")
    parser.add_argument("--batch", type=int, default=250, help="notes per retain request")
    parser.add_argument("--concurrency", type=int, default=2, help="retain requests at once")
    parser.add_argument("--samples", type=int, default=100, help="prospects recalled")
    parser.add_argument("--planted", type=int, default=20, help="prospects with a planted note")
    parser.add_argument("--grow-to", type=int, default=0, help="memory units (embedded only)")
    parser.add_argument("--ask", action="store_true", help="time the brief against asking")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--home", type=Path, help="keep the embedded server's data here")
    parser.add_argument("--skip-fill", action="store_true", help="reuse the bank in --home")
    parser.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    with_server_env(dict(pair.split("=", 1) for pair in args.server_env))

    url = os.environ.get("HINDSIGHT_URL")
    if url:
        asyncio.run(bench(url, args, None))
        return
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedHindsight(args.home or Path(tmp), startup_timeout=600.0)
        started = time.perf_counter()
        url = server.start()
        os.environ[API_KEY] = server.api_key
        print(f"Embedded Hindsight started in {time.perf_counter() - started:.1f} s")
        try:
            asyncio.run(bench(url, args, server))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
