"""Benchmark (not a test): how long `python -m bot` takes to exit on SIGTERM or Ctrl-C.

    .venv/bin/python -m tests.benchmarks.bench_shutdown

Each case runs the bot as an admin would, on its own embedded Hindsight in a fresh temporary
SALESMEMORY_HOME, against a loopback Slack, and prints the seconds from the signal to the
process's exit (the goal is under 10 s in every mode) and whether any memory process outlived
it. Cases: HTTP mode, serving; Socket Mode with no route to Slack; Ctrl-C (SIGINT) during the
very first start, then how long the next start takes to be ready (it repairs the cut-short
first start).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import tempfile
import time
from pathlib import Path

import aiohttp

from memory.embedded import free_port
from tests.e2e.test_entry_point import bot_env, processes_under, spawn_bot
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SIGNING_SECRET


async def launch(home: Path, slack_url: str, port: int, **extra: str) -> asyncio.subprocess.Process:
    env = bot_env(
        home,
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack_url,
        PORT=str(port),
        **extra,
    )
    return await spawn_bot(home, env, quiet=True)


async def until_ready(port: int) -> float:
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
                    if response.status == 200:
                        return time.monotonic() - started
            await asyncio.sleep(0.2)


async def signal_and_time(process: asyncio.subprocess.Process, sig: int) -> float:
    started = time.monotonic()
    process.send_signal(sig)
    await asyncio.wait_for(process.wait(), 120)
    return time.monotonic() - started


def report(case: str, seconds: float, home: Path) -> None:
    left = processes_under(home, "postgres") + processes_under(home, "hindsight-api")
    verdict = "ok" if seconds < 10 and not left else "OVER GOAL"
    print(f"  {case:48s} {seconds:6.1f} s   left running: {len(left)}   {verdict}")


async def bench() -> None:
    slack = FakeSlack()
    await slack.start()
    print("Seconds from the signal to exit (goal: under 10 s, nothing left running):")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            home, port = Path(tmp), free_port()
            process = await launch(home, slack.api_url, port)
            await until_ready(port)
            report(
                "HTTP mode, serving, SIGTERM", await signal_and_time(process, signal.SIGTERM), home
            )

        with tempfile.TemporaryDirectory() as tmp:
            home, port = Path(tmp), free_port()
            dead = f"http://127.0.0.1:{free_port()}/api/"
            process = await launch(home, dead, port, SLACK_APP_TOKEN="xapp-bench")
            await until_ready(port)  # health is served in Socket Mode too
            seconds = await signal_and_time(process, signal.SIGTERM)
            report("Socket Mode, Slack unreachable, SIGTERM", seconds, home)

        with tempfile.TemporaryDirectory() as tmp:
            home, port = Path(tmp), free_port()
            process = await launch(home, slack.api_url, port)
            await asyncio.sleep(3.0)  # inside the first start: unpacking / initdb
            report(
                "Ctrl-C during the first start", await signal_and_time(process, signal.SIGINT), home
            )
            process = await launch(home, slack.api_url, port)
            ready = await until_ready(port)
            print(f"  {'next start after that, until ready':48s} {ready:6.1f} s")
            await signal_and_time(process, signal.SIGTERM)
    finally:
        await slack.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.parse_args()
    asyncio.run(bench())


if __name__ == "__main__":
    main()
