"""`python -m bot` as a rep's admin runs it: settings, embedded Hindsight, HTTP mode, shutdown."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp

from memory.embedded import free_port
from tests.e2e.conftest import filled_log_view
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SIGNING_SECRET, SlackSender

ROOT = Path(__file__).parents[2]


def bot_env(home: Path, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "TMPDIR")}
    return {**keep, "HOME": str(home), "SALESMEMORY_HOME": str(home / "data"), **extra}


async def test_missing_settings_stop_startup_with_one_line_each(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env={**bot_env(tmp_path), "PYTHONPATH": str(ROOT), "PORT": "http"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await process.communicate()
    lines = stderr.decode().strip().splitlines()
    assert process.returncode == 2
    assert len(lines) == 3, lines
    assert lines[0].startswith("config error: SLACK_BOT_TOKEN is missing")
    assert any("SLACK_SIGNING_SECRET" in line for line in lines)
    assert any("PORT is malformed" in line for line in lines)
    assert "Traceback" not in stderr.decode()


async def run_bot_until_healthy(
    home: Path, slack: FakeSlack, port: int
) -> asyncio.subprocess.Process:
    env = bot_env(
        home,
        PYTHONPATH=str(ROOT),
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.api_url,
        PORT=str(port),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=home,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            assert process.returncode is None, "the bot exited during start-up"
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return process
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)
    process.kill()
    raise AssertionError("the bot never became healthy")


async def stop(process: asyncio.subprocess.Process) -> int:
    process.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(process.wait(), timeout=60)


def postgres_running_under(path: Path) -> bool:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "postgres" in text and str(path) in text:
            return True
    return False


async def test_bot_runs_on_embedded_memory_keeps_notes_across_restarts_and_stops_cleanly(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    send = SlackSender(f"http://127.0.0.1:{port}/slack/events", fake_slack.response_url)

    process = await run_bot_until_healthy(home, fake_slack, port)
    try:
        await send.command("/log", "Sarah Linden")
        view = (await fake_slack.wait_for("views.open"))[0]["view"]
        note = "Back after the reorg; wants pricing for 10 seats."
        status, _ = await send.view_submission(
            filled_log_view(view, "Sarah Linden", call_date="2026-11-03", note=note), "V9"
        )
        assert status == 200
        dm = (await fake_slack.wait_for("chat.postMessage"))[0]
        assert dm["text"].startswith("Logged your call with Sarah Linden")
    finally:
        assert await stop(process) == 0
    assert not postgres_running_under(home), "PostgreSQL outlived the bot"

    process = await run_bot_until_healthy(home, fake_slack, port)
    try:
        await send.command("/timeline", "sarah linden")
        shown = (await fake_slack.wait_for("respond"))[-1]
        assert note in json.dumps(shown["blocks"])
    finally:
        assert await stop(process) == 0
    assert not postgres_running_under(home)


async def test_digest_command_line_sends_one_reps_digest(
    tmp_path: Path, fake_slack: FakeSlack, hindsight_url: str
) -> None:
    env = bot_env(
        tmp_path,
        PYTHONPATH=str(ROOT),
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.api_url,
        HINDSIGHT_URL=hindsight_url,
        HINDSIGHT_BANK_PREFIX="cli-test",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "digest",
        "--user",
        "U0CLI",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0
    assert stdout.decode().strip() == "digest for U0CLI: no prospects"
    dm = fake_slack.called("chat.postMessage")[0]
    assert dm["channel"] == "DU0CLI" and "Log your first call" in dm["text"]
