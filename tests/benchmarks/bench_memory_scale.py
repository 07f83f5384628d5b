"""Benchmark (not a test): one workspace bank at pipeline scale.

    .venv/bin/python -m tests.benchmarks.bench_memory_scale \
        [--reps 100] [--prospects 50] [--notes 50] [--batch 200] [--concurrency 2] \
        [--samples 100] [--planted 20] [--home DIR [--skip-fill]] [--server-env KEY=VALUE ...]

Fills ONE bank with reps × prospects × notes call notes written through the memory layer (the
items `ProspectMemory` builds for a logged call: the note as content, context, metadata, tags
`prospect:<slug>`, `rep:<id>`, `type:call_log`, the call id as document id), in bulk retains,
and prints the fill throughput. Then, for `--samples` random prospects, the latency of the
brief's recall (`recall_prospect` with `BRIEF_QUERY`, as /brief calls it) and how many of the
prospect's notes it returned; and for `--planted` prospects whose history holds one distinctive
"budget frozen until Q3" note, whether that note came back. Ends with the server's resident
memory and the size of its data.

Uses the embedded Hindsight (in a temporary directory, or `--home` to keep the filled bank for
later runs with `--skip-fill`), or HINDSIGHT_URL. `--server-env` sets a HINDSIGHT_API_* setting
of the embedded server for this run (to try a tuning before it goes into memory/embedded.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from hindsight_client import Hindsight
from hindsight_client_api.exceptions import ApiException

import memory.embedded as embedded_module
from bot.brief import BRIEF_QUERY
from bot.memory_setup import sales_bank_setup
from memory import reaper
from memory.embedded import EmbeddedHindsight
from memory.prospects import prospect_slug
from memory.records import OUTCOMES, CallLog, prospect_tag
from memory.store import ProspectMemory

WORKSPACE = "TSCALE"
BANK_PREFIX = "bench-scale"
TODAY = date(2026, 11, 20)
PLANTED = (
    "Budget frozen until Q3: {first}'s CFO froze all new software spend after the audit, "
    "so nothing gets signed before July."
)

FIRST_NAMES = (
    "Amara Ben Carla Dev Elena Farid Grace Hiro Ines Jonas Kemi Liam Maya Nikhil Olga "
    "Pablo Quinn Rosa Sami Tara Umar Vera Wen Xavier Yara Zoltan Aisha Bruno Chloe Dmitri "
    "Esi Felix Gita Hugo Ivy Jamal Kira Luca Mina Noah Orla Priya Rami Sofia Theo Uma "
    "Viktor Willa Yusuf Zara Anders Bianca Cyrus Dalia Emil Fatima Gustav Hana Idris Jade"
)
LAST_NAMES = (
    "Okafor Lindqvist Moreau Tanaka Silva Novak Haddad Kowalski Brennan Osei Petrov "
    "Alvarez Nakamura Fischer Mensah Rossi Dubois Kaur Horvat Quispe Sato Jensen Barros "
    "Eriksen Adeyemi Costa Weber Ivanova Murphy Chen Larsen Duarte Ahmed Kovacs Oyelaran "
    "Bauer Romano Lund Park Varga Nilsson Ferreira Gallo Hughes Ito Keller Lopez Meyer "
    "Nagy Olsen Pereira Quinn Reyes Schmidt Torres Vogel Walsh Yilmaz Zhou Abbott Bishop "
    "Castro Doyle Engel Fontaine Grant Hoffmann Iqbal Jovanovic Kim Lang Marsh Nash Ortiz "
    "Price Ruiz Stone Thorne Ueda Vance Wolfe Young Ziegler Acosta Blake Cruz Dunn Ellis "
    "Frost Gill Hale Irwin Joyce Knight Lowe"
)
COMPANY_HEADS = "North Blue Iron Silver Bright Clear Swift Cedar Harbor Summit Prairie Atlas"
COMPANY_TAILS = "wind stone field bridge line path works labs grid point forge river"
ROLES = ["CFO", "CTO", "head of IT", "VP of Sales", "procurement lead", "COO", "security lead"]
COMPETITORS = ["Stripe", "Salesforce", "HubSpot", "Gong", "Outreach", "Zendesk", "Pipedrive"]
SYSTEMS = ["SAP", "NetSuite", "Salesforce", "an in-house CRM", "Oracle", "Dynamics", "Excel"]
TEAMS = ["finance", "support", "operations", "sales", "marketing", "data", "IT"]
MONTHS = ["January", "March", "April", "June", "September", "October", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
SENTENCES = (
    "{first} asked for a {pct}% discount if they sign before the end of the quarter.",
    "Pricing came up again: {competitor} quoted them {pct}% less for the same seats.",
    "The {role} wants a security review before legal looks at the contract.",
    "They are evaluating {competitor} in parallel and expect to decide in {month}.",
    "Agreed to a {weeks}-week pilot with the {team} team.",
    "{first} worries about the effort of migrating off {system}.",
    "Next step: send the ROI model to {first} by {weekday}.",
    "The {role} joined the call and asked about SSO and audit logs.",
    "Integration with {system} is a must-have for the {team} team.",
    "No decision until their reorg settles; {first} will come back in {month}.",
    "Demo went well; {first} wants to bring in the {role} next time.",
    "Contract redlines are with their legal team, expected back by {weekday}.",
    "They left {competitor} last year over slow support answers.",
    "Trial usage doubled this week and the {team} team asked for {seats} more seats.",
    "{first} needs sign-off from the {role} for anything above {k}k a year.",
    "Renewal of their {system} licence in {month} could free up headcount for this.",
    "Onboarding plan agreed: {seats} users first, then the rest of the {team} team.",
    "{first} was unhappy with the response time on last week's support ticket.",
    "The {role} asked for references from two customers in their industry.",
    "Quick check-in; {first} is out until {weekday}, nothing new on the deal.",
)


@dataclass(frozen=True)
class Prospect:
    name: str
    company: str
    rep_id: str

    @property
    def first(self) -> str:
        return self.name.split()[0]

    @property
    def slug(self) -> str:
        return prospect_slug(self.name)


def prospects(reps: int, per_rep: int, seed: int) -> list[Prospect]:
    """reps × per_rep prospects with distinct names, each owned by one rep."""
    rng = random.Random(seed)
    names = [f"{f} {last}" for f in FIRST_NAMES.split() for last in LAST_NAMES.split()]
    rng.shuffle(names)
    heads, tails = COMPANY_HEADS.split(), COMPANY_TAILS.split()
    found = []
    for n in range(reps * per_rep):
        name = names[n % len(names)] + (f" {n // len(names) + 1}" if n >= len(names) else "")
        company = f"{heads[n % len(heads)]}{tails[(n // len(heads)) % len(tails)]}"
        found.append(Prospect(name, company.capitalize(), f"U{n // per_rep:05d}"))
    return found


def note_text(rng: random.Random, who: Prospect) -> str:
    """Two or three sentences, the way reps write them."""
    picks = rng.sample(SENTENCES, rng.choice((2, 3)))
    return " ".join(
        s.format(
            first=who.first,
            pct=rng.choice((5, 10, 12, 15, 20)),
            competitor=rng.choice(COMPETITORS),
            role=rng.choice(ROLES),
            month=rng.choice(MONTHS),
            weeks=rng.choice((2, 3, 4, 6)),
            team=rng.choice(TEAMS),
            system=rng.choice(SYSTEMS),
            weekday=rng.choice(WEEKDAYS),
            seats=rng.choice((10, 25, 40, 100)),
            k=rng.choice((20, 50, 100, 250)),
        )
        for s in picks
    )


def calls(
    everyone: list[Prospect], notes: int, planted: dict[str, int], seed: int
) -> Iterator[CallLog]:
    """Every prospect's notes, round after round (one call per prospect per round), as a
    pipeline fills over time; a planted prospect gets the budget freeze as note `planted`."""
    rng = random.Random(seed + 1)
    logged = datetime(2026, 11, 20, tzinfo=UTC)
    for n in range(notes):
        for i, who in enumerate(everyone):
            text = (
                PLANTED.format(first=who.first)
                if planted.get(who.slug) == n
                else note_text(rng, who)
            )
            yield CallLog(
                call_id=f"call-{i:06d}-{n:03d}",
                workspace_id=WORKSPACE,
                prospect=who.name,
                company=who.company,
                rep_id=who.rep_id,
                call_date=TODAY - timedelta(days=7 * (notes - n) + i % 7),
                outcome=rng.choice(list(OUTCOMES)),
                note=text,
                transcript=None,
                logged_at=logged,
            )


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
    client = Hindsight(base_url=url, timeout=900.0)
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


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def recall_check(
    memory: ProspectMemory,
    everyone: list[Prospect],
    notes: int,
    sample: list[Prospect],
    planted: dict[str, int],
) -> None:
    index = {who.slug: i for i, who in enumerate(everyone)}
    # One recall first, out of the timings: the query embedding model's first run.
    await memory.recall_prospect(WORKSPACE, everyone[0].slug, everyone[0].name)
    latencies, returned, foreign = [], [], 0
    for who in sample:
        started = time.perf_counter()
        recalled = await memory.recall_prospect(
            WORKSPACE, who.slug, who.name, query=BRIEF_QUERY.format(name=who.name)
        )
        latencies.append((time.perf_counter() - started) * 1000)
        documents = {r.document_id for r in recalled}
        foreign += sum(1 for r in recalled if prospect_tag(who.slug) not in r.tags)
        returned.append(len(documents))
    complete = sum(1 for n in returned if n >= notes)
    print(f"Brief recall (recall_prospect, BRIEF_QUERY) over {len(sample)} random prospects:")
    print(
        f"  latency p50 {percentile(latencies, 0.5):8.1f} ms   p99 "
        f"{percentile(latencies, 0.99):8.1f} ms   max {max(latencies):8.1f} ms"
    )
    print(
        f"  notes returned per prospect (of {notes}): min {min(returned)}, "
        f"median {statistics.median(returned):g}, max {max(returned)}; "
        f"all {notes} for {complete}/{len(sample)} prospects"
    )
    print(f"  memories of another prospect returned: {foreign}")

    if not planted:
        return
    found = 0
    for slug, n in planted.items():
        who = everyone[index[slug]]
        recalled = await memory.recall_prospect(
            WORKSPACE, who.slug, who.name, query=BRIEF_QUERY.format(name=who.name)
        )
        wanted = f"call-{index[slug]:06d}-{n:03d}"
        found += any(r.document_id == wanted for r in recalled)
    print(f"  planted 'budget frozen until Q3' note recalled for {found}/{len(planted)} prospects")


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


async def bench(url: str, args: argparse.Namespace, server: EmbeddedHindsight | None) -> None:
    everyone = prospects(args.reps, args.prospects, args.seed)
    total = len(everyone) * args.notes
    rng = random.Random(args.seed + 2)
    planted_who = rng.sample(everyone, min(args.planted, len(everyone)))
    planted = {who.slug: rng.randrange(args.notes) for who in planted_who}
    sample = rng.sample(everyone, min(args.samples, len(everyone)))
    memory = ProspectMemory.connect(url, BANK_PREFIX, setup=sales_bank_setup(), timeout=120.0)
    try:
        print(
            f"One bank: {args.reps} reps × {args.prospects} prospects × {args.notes} notes "
            f"= {total:,} notes"
        )
        if args.skip_fill:
            print("Fill skipped (--skip-fill): using the bank already in --home")
        else:
            print(f"Filling in batches of {args.batch}, {args.concurrency} requests at a time:")
            seconds = await fill(
                url,
                memory,
                calls(everyone, args.notes, planted, args.seed),
                total,
                args.batch,
                args.concurrency,
            )
            print(f"Filled {total:,} notes in {seconds:,.1f} s = {total / seconds:,.1f} notes/s")
        if server is not None:
            print_server_memory(server)
        await recall_check(memory, everyone, args.notes, sample, planted)
        if server is not None:
            print_server_memory(server)
    finally:
        await memory.aclose()


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
    parser.add_argument("--batch", type=int, default=200, help="notes per retain request")
    parser.add_argument("--concurrency", type=int, default=2, help="retain requests at once")
    parser.add_argument("--samples", type=int, default=100, help="prospects recalled")
    parser.add_argument("--planted", type=int, default=20, help="prospects with a planted note")
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
        print(f"Embedded Hindsight started in {time.perf_counter() - started:.1f} s")
        try:
            asyncio.run(bench(url, args, server))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
