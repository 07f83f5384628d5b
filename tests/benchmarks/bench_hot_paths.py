"""Benchmark (not a test): the hot paths, measured from outside the bot.

    .venv/bin/python -m tests.benchmarks.bench_hot_paths [--prospects 50] [--notes 20]

`python -m bot` runs as its own process in HTTP mode, on a real Hindsight (HINDSIGHT_URL, or
the embedded one started here) and loopback Slack and Groq servers that answer at once. One rep
logs prospects × notes through the modal; then, each printed beside its goal (issue 9):

- the ack of one slash command at a time (p50), and of 40 arriving at once (p50/p99, 5 bursts),
  with no work after the ack (a usage line) and with briefs and timelines;
- `/brief` and `/timeline`, command -> posted; `/digest` for every prospect, command -> DM;
- typeahead p99 once the workspace has 10,000 prospects;
- resident memory of the bot and of the memory server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.blocks import ids
from memory.embedded import free_port
from memory.index import LocalIndex
from memory.records import CallLog
from tests.benchmarks.bench_brief import ANSWER as BRIEF_ANSWER
from tests.benchmarks.common import run_with_hindsight
from tests.e2e.conftest import filled_log_view
from tests.e2e.test_entry_point import run_bot_until_ready
from tests.support.fake_groq import FakeGroq
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.slack_requests import SlackSender

BURST = 40
BURSTS = 5
TYPEAHEAD_PROSPECTS = 10_000
OUTCOMES = ("positive", "objection", "neutral", "no_response", "pilot_agreed")


def groq_answers(body: dict[str, Any]) -> tuple[str, Any]:
    """A brief for a brief's request; an empty ranking for the digest's (placed by facts)."""
    schema = body.get("response_format", {}).get("json_schema", {}).get("name", "")
    if schema == "weekly_digest":
        return "json", {"needs_attention": [], "follow_up": [], "on_track": []}
    return "json", BRIEF_ANSWER


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def server_pid(port: int) -> int | None:
    """The pid of the process listening on `port` (the memory server), from /proc."""
    wanted = f":{port:04X}"
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[1].endswith(wanted) and fields[3] == "0A":  # LISTEN
                inodes.add(fields[9])
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            for fd in fd_dir.iterdir():
                if os.readlink(fd).removeprefix("socket:[").rstrip("]") in inodes:
                    return int(fd_dir.parent.name)
        except OSError:
            continue
    return None


async def timed(send: Any) -> float:
    started = time.perf_counter()
    status, _ = await send
    assert status == 200, status
    return (time.perf_counter() - started) * 1000


async def until(condition: Any, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting")
        await asyncio.sleep(0.05)


async def fill(slack: FakeSlack, send: SlackSender, index: LocalIndex, prospects: int, notes: int):
    """prospects × notes logged through the modal, 8 at a time, until all are in memory."""
    await send.command("/log", "")
    view = (await slack.wait_for("views.open"))[-1]["view"]
    today = date.today()
    semaphore = asyncio.Semaphore(8)

    async def one(p: int, n: int) -> None:
        day = today - timedelta(days=3 + 5 * (notes - n) + p % 7)
        note = (
            f"Call {n} with prospect {p}: discussed pricing against a competitor, the security "
            f"review and who signs off; next step agreed for week {n + 1}. " * 2
        )
        filled = filled_log_view(
            view,
            prospect=f"Prospect {p:03d}",
            outcome=OUTCOMES[(p + n) % len(OUTCOMES)],
            call_date=day.isoformat(),
            note=note,
            company=f"Company {p:03d}",
        )
        async with semaphore:
            status, _ = await send.view_submission(filled, f"V{p}-{n}")
            assert status == 200

    started = time.perf_counter()
    await asyncio.gather(*(one(p, n) for p in range(prospects) for n in range(notes)))
    await until(lambda: _empty(index), timeout=1800)
    return time.perf_counter() - started


async def _empty(index: LocalIndex) -> bool:
    return await index.count_waiting() == 0


async def add_prospects(index: LocalIndex, count: int) -> None:
    """Other reps' prospects, straight into the local index (typeahead reads only it)."""
    now = datetime.now(UTC)
    for n in range(count):
        await index.record_delivered_call(
            CallLog(
                call_id=f"bulk-{n}",
                workspace_id=TEAM_ID,
                prospect=f"Bulk Person {n:05d}",
                company="Bulk Co",
                rep_id="U0OTHER",
                call_date=date.today() - timedelta(days=n % 400),
                outcome="neutral",
                note="",
                transcript=None,
                logged_at=now,
            )
        )


async def bench(hindsight_url: str, workdir: Path, prospects: int, notes: int) -> None:
    slack, groq = FakeSlack(), FakeGroq(default=groq_answers)
    await slack.start()
    await groq.start()
    port = free_port()
    bot = await run_bot_until_ready(
        workdir,
        slack,
        port,
        HINDSIGHT_URL=hindsight_url,
        GROQ_API_KEY="gsk-bench",
        GROQ_BASE_URL=groq.base_url,
        LOG_LEVEL="WARNING",
    )
    send = SlackSender(f"http://127.0.0.1:{port}/slack/events", slack.response_url)
    index = LocalIndex.open(f"sqlite:///{workdir / 'data' / 'salesmemory.db'}")
    try:
        filled = await fill(slack, send, index, prospects, notes)
        print(f"{prospects} prospects x {notes} notes logged through the modal in {filled:.0f} s")
        await report(slack, send, index, prospects)
        print(
            f"resident memory: bot {rss_mb(bot.pid):.0f} MB (goal <= 150 MB)"
            + (
                f" / memory server {rss_mb(pid):.0f} MB"
                if (pid := server_pid(int(hindsight_url.rsplit(":", 1)[1].strip("/"))))
                else ""
            )
        )
    finally:
        bot.terminate()
        await bot.wait()
        index.close()
        await groq.close()
        await slack.close()


async def report(slack: FakeSlack, send: SlackSender, index: LocalIndex, prospects: int) -> None:
    commands = [("/brief", f"Prospect {p:03d}") for p in range(prospects)]
    commands += [("/timeline", f"Prospect {p:03d}") for p in range(prospects)]

    async def posted(command: str, text: str) -> tuple[float, float]:
        before = len(slack.responses)
        started = time.perf_counter()
        ack = await timed(send.command(command, text))
        await slack.wait_for("respond", before + 1, timeout=60)
        return ack, (time.perf_counter() - started) * 1000

    single = [await posted("/brief", f"Prospect {p % prospects:03d}") for p in range(30)]
    timeline = [await posted("/timeline", f"Prospect {p % prospects:03d}") for p in range(30)]
    acks = [a for a, _ in single + timeline]
    idle = statistics.median(acks)
    print(f"ack of one command at a time (p50)       {idle:8.1f} ms")
    brief = statistics.median(b for _, b in single)
    shown = statistics.median(t for _, t in timeline)
    print(f"/brief, command -> posted (p50)          {brief:8.1f} ms")
    print(f"/timeline, command -> posted (p50)       {shown:8.1f} ms")

    # The same bursts with no work after the ack (the usage line): what Bolt, HTTP and the
    # process cost by themselves.
    bare: list[float] = []
    for _ in range(BURSTS):
        bare += await asyncio.gather(*(timed(send.command("/brief", "")) for _ in range(BURST)))
    print(
        f"ack with {BURST} commands at once, no work after it: p50 "
        f"{percentile(bare, 50):.1f} ms, p99 {percentile(bare, 99):.1f} ms = "
        f"{percentile(bare, 99) / idle:.1f}x the idle p50"
    )

    burst_acks: list[float] = []
    for b in range(BURSTS):
        before = len(slack.responses)
        chosen = [commands[(b * BURST + i) % len(commands)] for i in range(BURST)]
        burst_acks += await asyncio.gather(*(timed(send.command(c, t)) for c, t in chosen))
        await slack.wait_for("respond", before + BURST, timeout=300)
    p50, p99 = percentile(burst_acks, 50), percentile(burst_acks, 99)
    print(
        f"ack with {BURST} commands at once: p50 {p50:.1f} ms, p99 {p99:.1f} ms = "
        f"{p99 / idle:.1f}x the idle p50 (goal <= 5x)"
    )

    before = len(slack.called("chat.postMessage"))
    started = time.perf_counter()
    await timed(send.command("/digest", ""))
    await slack.wait_for("chat.postMessage", before + 1, timeout=300)
    digest = (time.perf_counter() - started) * 1000
    print(
        f"/digest for {prospects} prospects, command -> DM {digest:8.1f} ms = "
        f"{digest / brief:.1f}x one brief (goal <= 3x)"
    )

    await add_prospects(index, TYPEAHEAD_PROSPECTS)
    typed = ["bulk", "pers", "0042", "prospect 01", "bulk person 0999", "zzz", "p"]
    samples = [
        await timed(send.options(ids.PROSPECT_ACTION, typed[n % len(typed)])) for n in range(300)
    ]
    print(
        f"typeahead with {TYPEAHEAD_PROSPECTS + prospects:,} prospects: "
        f"p50 {percentile(samples, 50):.1f} ms, p99 {percentile(samples, 99):.1f} ms "
        "(goal p99 <= 50 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prospects", type=int, default=50)
    parser.add_argument("--notes", type=int, default=20)
    args = parser.parse_args()
    run_with_hindsight(lambda url, workdir: bench(url, workdir, args.prospects, args.notes))


if __name__ == "__main__":
    main()
