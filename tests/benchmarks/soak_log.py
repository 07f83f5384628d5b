"""Soak (not a test): a burst of logged calls while memory stalls and the bot is killed.

    .venv/bin/python -m tests.benchmarks.soak_log [--notes 1000] [--clients 8] [--kills 3]

Runs `python -m bot` as an admin would (HTTP mode, its own embedded Hindsight under a temporary
SALESMEMORY_HOME) against a loopback Slack. Eight clients submit the log modal 1,000 times, as
reps pressing Save would (a refused or unanswered submission is pressed again, same modal).
Meanwhile the memory server is stopped (SIGSTOP) and resumed, and the bot is killed (SIGKILL) at
random moments and started again. Then it waits until memory holds every acknowledged note and
prints: submitted, reached memory, how long that took after the burst, lost (must be 0), and
duplicated confirmations (the same notice twice for one call).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import random
import signal
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import aiohttp

from bot.log.view import build_log_modal
from memory.embedded import free_port
from memory.ownership import read_state
from memory.store import ProspectMemory
from tests.e2e.conftest import filled_log_view
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.slack_requests import SIGNING_SECRET, SlackSender

ROOT = Path(__file__).parents[2]
FIRST_DAY = date(2026, 1, 1)
PROSPECTS = 50


class Bot:
    """The bot as a process: started, killed and started again on the same home."""

    def __init__(self, home: Path, slack: FakeSlack, port: int) -> None:
        self.home, self.slack, self.port = home, slack, port
        self.process: asyncio.subprocess.Process | None = None
        self.log = open(home / "bot.log", "ab")  # noqa: SIM115 - the soak's own log file

    async def start(self) -> None:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(self.home),
            "PYTHONPATH": str(ROOT),
            "SALESMEMORY_HOME": str(self.home / "data"),
            "SLACK_BOT_TOKEN": "xoxb-soak",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.slack.api_url,
            "PORT": str(self.port),
            "RUN_SCHEDULER": "false",
        }
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=self.home, env=env, stdout=self.log, stderr=self.log
        )
        async with aiohttp.ClientSession() as session:
            while True:
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(f"http://127.0.0.1:{self.port}/readyz") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.3)

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.process.wait(), 30)

    def memory_pid(self) -> int | None:
        state = read_state(self.home / "data" / "hindsight")
        return state.api_pid if state else None


def prospect(n: int) -> str:
    return f"Soak Prospect {n % PROSPECTS:02d}"


def call_date(n: int) -> date:
    return FIRST_DAY + timedelta(days=n // PROSPECTS)  # unique per prospect


async def submit_all(send: SlackSender, notes: int, clients: int) -> tuple[int, float]:
    """Every note submitted until its modal closed; returns (acknowledged, seconds)."""
    base = build_log_modal(date(2026, 11, 20), None, '{"tz": "UTC"}')
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(notes):
        queue.put_nowait(n)
    acked = 0

    async def client() -> None:
        nonlocal acked
        while not queue.empty():
            n = queue.get_nowait()
            view = filled_log_view(
                base, prospect(n), call_date=call_date(n).isoformat(), note=f"Soak note {n}."
            )
            while True:  # the rep presses Save again until the modal closes
                try:
                    status, body = await send.view_submission(view, f"VSOAK{n}")
                    if status == 200 and body == "":
                        acked += 1
                        break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.5)

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(clients)))
    return acked, time.monotonic() - started


async def faults(bot: Bot, kills: int, burst: asyncio.Task[tuple[int, float]]) -> None:
    """Stall memory and kill the bot at random moments while the burst runs."""
    rng = random.Random(7)
    for _ in range(kills):
        await asyncio.sleep(rng.uniform(1.0, 4.0))
        if burst.done():
            return
        pid = bot.memory_pid()
        if pid:
            os.kill(pid, signal.SIGSTOP)
            await asyncio.sleep(rng.uniform(1.0, 3.0))
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        await asyncio.sleep(rng.uniform(0.2, 2.0))
        print(f"  killing the bot at {time.strftime('%H:%M:%S')}", flush=True)
        await bot.kill()
        await bot.start()


async def in_memory(url: str, notes: int) -> int:
    memory = ProspectMemory.connect(url, "salesmemory")
    try:
        timelines = await asyncio.gather(
            *(memory.timeline(TEAM_ID, f"soak-prospect-{p:02d}") for p in range(PROSPECTS))
        )
    finally:
        await memory.aclose()
    found = {e.note for entries in timelines for e in entries}
    return sum(1 for n in range(notes) if f"Soak note {n}." in found)


async def soak(notes: int, clients: int, kills: int) -> None:
    slack = FakeSlack()
    await slack.start()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        bot = Bot(home, slack, free_port())
        send = SlackSender(f"http://127.0.0.1:{bot.port}/slack/events", slack.response_url)
        print(f"Starting the bot (embedded memory) in {home} …", flush=True)
        await bot.start()
        try:
            burst = asyncio.create_task(submit_all(send, notes, clients))
            await faults(bot, kills, burst)
            acked, seconds = await burst
            burst_end = time.monotonic()
            print(f"Burst: {acked} notes acknowledged in {seconds:.1f} s", flush=True)
            state = read_state(home / "data" / "hindsight")
            assert state is not None and state.url is not None
            stored = 0
            deadline = burst_end + 600
            while time.monotonic() < deadline:
                stored = await in_memory(state.url, notes)
                if stored >= acked:
                    break
                await asyncio.sleep(2)
            after = time.monotonic() - burst_end
            # Each call has its own prospect and date, so one text twice is one notice twice.
            confirmations = collections.Counter(c["text"] for c in slack.called("chat.postMessage"))
            duplicated = sum(count - 1 for count in confirmations.values() if count > 1)
            print(f"submitted (acknowledged)     {acked}")
            print(f"reached memory               {stored}")
            print(f"time after the burst         {after:.1f} s")
            print(f"lost                         {acked - stored}")
            print(f"duplicated confirmations     {duplicated}")
        finally:
            await bot.stop()
            await slack.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--kills", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(soak(args.notes, args.clients, args.kills))


if __name__ == "__main__":
    main()
