"""`python -m bot` as a rep's admin runs it: settings, embedded Hindsight, HTTP mode, shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from memory.embedded import free_port
from memory.ownership import read_state
from tests.e2e.conftest import filled_log_view
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SIGNING_SECRET, SlackSender

ROOT = Path(__file__).parents[2]


def bot_env(home: Path, **extra: str) -> dict[str, str]:
    """What an admin's shell gives `python -m bot`, with this checkout importable."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "TMPDIR")}
    return {
        **keep,
        "HOME": str(home),
        "SALESMEMORY_HOME": str(home / "data"),
        "PYTHONPATH": str(ROOT),
        **extra,
    }


async def spawn_bot(
    home: Path, env: dict[str, str], *args: str, quiet: bool = False
) -> asyncio.subprocess.Process:
    """`python -m bot [args]` run in `home`; its output piped, or dropped when `quiet` (a
    long-running bot whose pipes nobody reads must not block on them)."""
    output = asyncio.subprocess.DEVNULL if quiet else asyncio.subprocess.PIPE
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=home, env=env, stdout=output, stderr=output
    )


async def test_missing_settings_stop_startup_with_one_line_each(tmp_path: Path) -> None:
    process = await spawn_bot(tmp_path, bot_env(tmp_path, PORT="http"))
    _, stderr = await process.communicate()
    lines = stderr.decode().strip().splitlines()
    assert process.returncode == 2
    assert len(lines) == 3, lines
    assert lines[0].startswith("config error: SLACK_BOT_TOKEN is missing")
    assert any("SLACK_SIGNING_SECRET" in line for line in lines)
    assert any("PORT is malformed" in line for line in lines)
    assert "Traceback" not in stderr.decode()


async def run_bot_until_ready(
    home: Path, slack: FakeSlack, port: int, **extra: str
) -> asyncio.subprocess.Process:
    env = bot_env(
        home,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.api_url,
        PORT=str(port),
        **extra,
    )
    process = await spawn_bot(home, env, quiet=True)
    try:
        await wait_until_ready(process, port)
    except AssertionError:
        if process.returncode is None:
            process.kill()
        raise
    return process


async def wait_until_ready(process: asyncio.subprocess.Process, port: int) -> None:
    """Until `python -m bot` answers GET /readyz with 200 (at most 5 minutes)."""
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            assert process.returncode is None, "the bot exited during start-up"
            try:
                async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)
    raise AssertionError("the bot never became ready")


async def ready(port: int) -> bool:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/readyz") as response,
    ):
        return response.status == 200


async def stop(process: asyncio.subprocess.Process) -> int:
    process.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(process.wait(), timeout=60)


def processes_under(path: Path, name: str) -> list[int]:
    """Pids of running `name` processes (postgres, hindsight-api) that belong to `path`."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
            environ = (cmdline.parent / "environ").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if name in text and (str(path) in text or str(path) in environ):
            found.append(int(cmdline.parent.name))
    return found


async def wait_until_gone(path: Path, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while processes_under(path, "postgres") or processes_under(path, "hindsight-api"):
        assert asyncio.get_running_loop().time() < deadline, "memory processes outlived the bot"
        await asyncio.sleep(0.2)


async def test_a_note_survives_the_bot_killed_mid_save_and_the_digest_cli_leaves_memory_up(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    # The admin's .env, above the memory server's folder: its HINDSIGHT_API_* lines are not for
    # the embedded server (which would otherwise read them over its own settings).
    (home / ".env").write_text("HINDSIGHT_API_DATABASE_URL=postgresql://x:y@127.0.0.1:9/none\n")
    port = free_port()
    send = SlackSender(f"http://127.0.0.1:{port}/slack/events", fake_slack.response_url)
    note = "Back after the reorg; wants pricing for 10 seats."

    process = await run_bot_until_ready(home, fake_slack, port)
    try:
        # A second process on the same home (the documented digest command) uses the running
        # memory server and stops nothing.
        cli_env = bot_env(
            home,
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=fake_slack.api_url,
        )
        cli = await spawn_bot(home, cli_env, "digest", "--user", "U0CLI")
        out, _ = await asyncio.wait_for(cli.communicate(), timeout=120)
        assert cli.returncode == 0 and out.decode().strip() == "digest for U0CLI: no prospects"
        assert await ready(port), "the digest command stopped the bot's memory"

        # Memory hangs (stopped), the rep saves a call, and the bot dies before memory answers.
        state = read_state(home / "data" / "hindsight")
        assert state is not None and state.api_pid is not None
        os.kill(state.api_pid, signal.SIGSTOP)
        try:
            await send.command("/log", "Sarah Linden")
            view = (await fake_slack.wait_for("views.open"))[0]["view"]
            status, body = await send.view_submission(
                filled_log_view(view, "Sarah Linden", call_date="2026-11-03", note=note), "V9"
            )
            assert status == 200 and body == ""  # acked: the modal closed
            process.kill()
            await process.wait()
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(state.api_pid, signal.SIGCONT)
        # Its memory server and database go with it: nothing is left running.
        await wait_until_gone(home)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    fake_slack.calls.clear()
    process = await run_bot_until_ready(home, fake_slack, port)
    try:
        # Nobody logs anything: the kept call reaches memory (once the dead worker's claim on it
        # has run out) and the rep hears about it once.
        dm = (await fake_slack.wait_for("chat.postMessage", timeout=120))[0]
        assert dm["text"].startswith("Logged your call with Sarah Linden")
        await send.command("/timeline", "sarah linden")
        shown = (await fake_slack.wait_for("respond"))[-1]
        assert note in json.dumps(shown["blocks"])
        assert "on its way to memory" not in json.dumps(shown["blocks"])
    finally:
        assert await stop(process) == 0
    await wait_until_gone(home)
    assert len(fake_slack.called("chat.postMessage")) == 1


async def test_socket_mode_without_a_route_to_slack_stops_on_sigterm(
    tmp_path: Path, hindsight_access: dict[str, str]
) -> None:
    env = bot_env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_APP_TOKEN="xapp-test",
        SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/",  # nothing listens there
        **hindsight_access,
        PORT=str(free_port()),
    )
    process = await spawn_bot(tmp_path, env)
    assert process.stderr is not None
    seen = []
    while True:
        line = (await asyncio.wait_for(process.stderr.readline(), timeout=60)).decode()
        assert line, "the bot exited on its own: " + "".join(seen)
        seen.append(line)
        if "Cannot reach Slack for Socket Mode" in line:
            break
    process.send_signal(signal.SIGTERM)
    _, rest = await asyncio.wait_for(process.communicate(), timeout=15)
    assert process.returncode == 0
    assert "Traceback" not in "".join(seen) + rest.decode()


@pytest.mark.parametrize(
    ("variable", "failing"),
    [("SLACK_BOT_TOKEN", "auth.test"), ("SLACK_APP_TOKEN", "apps.connections.open")],
)
async def test_a_token_slack_refuses_stops_startup_with_one_line(
    tmp_path: Path,
    fake_slack: FakeSlack,
    hindsight_access: dict[str, str],
    variable: str,
    failing: str,
) -> None:
    fake_slack.errors[failing] = "invalid_auth"
    env = bot_env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-wrong",
        SLACK_APP_TOKEN="xapp-wrong",
        SLACK_API_URL=fake_slack.api_url,
        **hindsight_access,
        PORT=str(free_port()),
        LOG_LEVEL="CRITICAL",
    )
    process = await spawn_bot(tmp_path, env)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 2
    lines = stderr.decode().strip().splitlines()
    assert lines == [lines[0]] and lines[0].startswith(f"slack error: {variable} was refused")


async def test_digest_command_line_sends_one_reps_digest(
    tmp_path: Path, fake_slack: FakeSlack, hindsight_access: dict[str, str]
) -> None:
    env = bot_env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.api_url,
        **hindsight_access,
        HINDSIGHT_BANK_PREFIX="cli-test",
    )
    process = await spawn_bot(tmp_path, env, "digest", "--user", "U0CLI")
    stdout, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0
    assert stdout.decode().strip() == "digest for U0CLI: no prospects"
    dm = fake_slack.called("chat.postMessage")[0]
    assert dm["channel"] == "DU0CLI" and "Log your first call" in dm["text"]


async def test_settings_in_a_dotenv_file_are_checked_like_the_environment(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "SLACK_BOT_TOKEN=xoxb-1\nSLACK_SIGNING_SECRET=s\nLOG_LEVEL=loud\n"
        "SALESMEMORY_PG_USER=nobody-here-x\n"
    )
    process = await spawn_bot(tmp_path, bot_env(tmp_path))
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    lines = stderr.decode().strip().splitlines()
    assert process.returncode == 2
    assert [line.split(" is ")[0] for line in lines] == [
        "config error: LOG_LEVEL",
        "config error: SALESMEMORY_PG_USER",
    ]


async def test_a_busy_port_stops_startup_with_one_line(
    tmp_path: Path, fake_slack: FakeSlack, hindsight_access: dict[str, str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        env = bot_env(
            tmp_path,
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=fake_slack.api_url,
            **hindsight_access,
            PORT=str(taken.getsockname()[1]),
            LOG_LEVEL="CRITICAL",
        )
        process = await spawn_bot(tmp_path, env)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    lines = stderr.decode().strip().splitlines()
    assert process.returncode == 2
    assert len(lines) == 1 and lines[0].startswith("startup error: PORT")


@pytest.mark.parametrize("hanging", ["auth.test", "apps.connections.open"])
async def test_sigterm_stops_a_bot_whose_slack_never_answers(
    tmp_path: Path, fake_slack: FakeSlack, hindsight_access: dict[str, str], hanging: str
) -> None:
    fake_slack.hang.add(hanging)  # packets dropped: connected, and no answer ever comes
    env = bot_env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_APP_TOKEN="xapp-test",
        SLACK_API_URL=fake_slack.api_url,
        **hindsight_access,
        PORT=str(free_port()),
    )
    process = await spawn_bot(tmp_path, env)
    await fake_slack.wait_for(hanging, timeout=60)
    process.send_signal(signal.SIGTERM)
    # Slack's own request would hold it 10 s: the process does not wait for that.
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=8)
    assert process.returncode == 0
    assert "Traceback" not in stderr.decode()
