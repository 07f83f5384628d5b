"""A healthy start says nothing alarming: `python -m bot` with every setting right, started on a
fresh home (its own embedded memory server, reasoning with the loopback Groq), logs no warning
or error until it is ready, and neither does the memory server's log. A warning then means
something is wrong."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path

from memory.embedded import free_port
from tests.e2e.test_entry_point import bot_env, wait_until_ready
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SIGNING_SECRET
from tests.support.threaded_groq import ThreadedGroq

# The bot's own line format (bot.__main__): "date time LEVEL logger: message".
RECORD = re.compile(r"^\d{4}-\d\d-\d\d [\d:,]+ (?P<level>[A-Z]+) (?P<logger>\S+): ")
# hindsight-api's: "date time - LEVEL - logger - message".
MEMORY_RECORD = re.compile(r" - (WARNING|ERROR|CRITICAL) - ")


async def run_until_ready(home: Path, env: dict[str, str], port: int) -> tuple[list[str], str]:
    """`python -m bot` from start to ready, then SIGTERM: its log lines, and what the embedded
    memory server had logged by the time the bot was ready ("" without one)."""
    log = home / "bot.log"
    memory_log = home / "data" / "hindsight" / "hindsight-api.log"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=home, env=env, stdout=output, stderr=output
        )
        try:
            await wait_until_ready(process, port)
            memory = memory_log.read_text() if memory_log.exists() else ""
            await asyncio.sleep(1)  # what follows readiness at once (the scheduler's start)
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=60)
    assert process.returncode == 0
    return log.read_text().splitlines(), memory


def alarming(lines: list[str]) -> list[str]:
    """Lines that are not one of the bot's records at DEBUG or INFO: a warning or worse from
    any logger (Bolt's included), or a stray print or Python warning from a library."""
    quiet = ("DEBUG", "INFO")
    return [line for line in lines if not ((r := RECORD.match(line)) and r["level"] in quiet)]


async def test_a_healthy_start_logs_nothing_at_warning_or_above(
    tmp_path: Path, fake_slack: FakeSlack, reasoning_groq: ThreadedGroq
) -> None:
    port = free_port()
    env = bot_env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.api_url,
        GROQ_API_KEY="gsk-test",
        GROQ_BASE_URL=reasoning_groq.openai_base.removesuffix("/openai/v1"),
        PORT=str(port),
    )
    # Bolt reads the bot token from the environment by itself too (it did warn about that).
    assert "SLACK_BOT_TOKEN" in env
    lines, memory_log = await run_until_ready(tmp_path, env, port)
    # A positive sign first: the start went through the path under test, embedded memory
    # with an LLM included.
    text = "\n".join(lines)
    assert "Embedded Hindsight ready" in text and "SalesMemory is listening" in text
    assert "Uvicorn running" in memory_log and "provider=groq" in memory_log
    assert alarming(lines) == []
    assert [line for line in memory_log.splitlines() if MEMORY_RECORD.search(line)] == []
    assert "PyTorch" not in memory_log and "Traceback" not in memory_log


async def test_a_healthy_socket_mode_start_on_a_memory_server_of_its_own_is_quiet_too(
    tmp_path: Path,
    fake_slack: FakeSlack,
    hindsight_access: dict[str, str],
    reasoning_groq: ThreadedGroq,
) -> None:
    """As compose.yaml's replicas start (an external memory server), in Socket Mode."""
    port = free_port()
    env = bot_env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_APP_TOKEN="xapp-test",
        SLACK_API_URL=fake_slack.api_url,
        GROQ_API_KEY="gsk-test",
        GROQ_BASE_URL=reasoning_groq.openai_base.removesuffix("/openai/v1"),
        **hindsight_access,
        PORT=str(port),
    )
    lines, memory_log = await run_until_ready(tmp_path, env, port)
    assert fake_slack.called("apps.connections.open") and memory_log == ""
    assert any("SalesMemory" in line for line in lines)
    assert alarming(lines) == []
