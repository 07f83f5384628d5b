"""`python -m bot check`, the fast checks `python -m bot` runs before it starts anything slow,
and `--help` / `--version` on every entry point, run as an admin runs them."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

import pytest

from memory.embedded import free_port
from tests.e2e.test_entry_point import ROOT, bot_env, processes_under, spawn_bot
from tests.support.fake_groq import FakeGroq
from tests.support.fake_slack import TEAM_ID, TEAM_NAME, FakeSlack
from tests.support.slack_requests import SIGNING_SECRET

GROQ_KEY = "gsk-right"


async def run_check(home: Path, env: dict[str, str]) -> tuple[int, dict[str, tuple[str, str]]]:
    """`python -m bot check`'s exit code and its lines as name -> (status, detail)."""
    process = await spawn_bot(home, env, "check")
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert stderr.decode() == "", stderr.decode()
    found = {}
    for line in stdout.decode().splitlines():
        status, name, detail = line.split(maxsplit=2)
        found[name] = (status, detail)
    assert process.returncode is not None
    return process.returncode, found


@contextmanager
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        yield taken.getsockname()[1]


def socket_mode_env(
    home: Path, slack: FakeSlack, groq: FakeGroq, hindsight: dict[str, str], **extra: str
) -> dict[str, str]:
    return bot_env(
        home,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_APP_TOKEN="xapp-test",
        SLACK_API_URL=slack.api_url,
        GROQ_API_KEY=GROQ_KEY,
        GROQ_BASE_URL=groq.base_url,
        **hindsight,
        PORT=str(free_port()),
        **extra,
    )


async def test_check_passes_good_settings_line_by_line_without_starting_memory(
    tmp_path: Path, fake_slack: FakeSlack, groq: FakeGroq, hindsight_access: dict[str, str]
) -> None:
    groq.api_key = GROQ_KEY
    code, found = await run_check(
        tmp_path, socket_mode_env(tmp_path, fake_slack, groq, hindsight_access)
    )
    assert code == 0, found
    assert list(found) == [
        "settings",
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "GROQ_API_KEY",
        "HINDSIGHT_URL",
        "SALESMEMORY_DB_URL",
        "PORT",
    ]
    assert found["SLACK_BOT_TOKEN"] == ("ok", f"{TEAM_NAME} ({TEAM_ID}), bot user UBOT")
    assert found["SLACK_SIGNING_SECRET"][0] == "info"  # not needed in Socket Mode
    assert {status for status, _ in found.values()} == {"ok", "info"}
    assert "Socket Mode" in found["settings"][1]
    # The app token was tried, no connection opened; nothing was created or started.
    assert fake_slack.called("apps.connections.open") and not fake_slack.socket_acks
    assert fake_slack._ws is None
    assert not (tmp_path / "data").exists()


async def test_check_without_groq_or_memory_url_says_what_runs_instead(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    env = bot_env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.api_url,
        PORT=str(free_port()),
    )
    code, found = await run_check(tmp_path, env)
    assert code == 0, found
    assert found["GROQ_API_KEY"][0] == "info" and "memory only" in found["GROQ_API_KEY"][1]
    assert (
        found["HINDSIGHT_URL"][0] == "info" and str(tmp_path / "data") in found["HINDSIGHT_URL"][1]
    )
    assert found["SLACK_SIGNING_SECRET"][0] == "ok" and found["SLACK_APP_TOKEN"][0] == "info"
    assert not (tmp_path / "data").exists()


async def test_check_fails_a_home_that_cannot_be_created(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    (tmp_path / "a-file").write_text("")
    env = bot_env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.api_url,
        SALESMEMORY_HOME=str(tmp_path / "a-file" / "home"),
        PORT=str(free_port()),
    )
    code, found = await run_check(tmp_path, env)
    assert code == 1
    blocked = f"{tmp_path / 'a-file'} is not a writable folder"
    assert found["HINDSIGHT_URL"][0] == "FAIL" and blocked in found["HINDSIGHT_URL"][1]
    assert found["SALESMEMORY_DB_URL"][0] == "FAIL" and blocked in found["SALESMEMORY_DB_URL"][1]


@pytest.mark.parametrize(
    ("fault", "failing", "saying"),
    [
        ("bot token", "SLACK_BOT_TOKEN", "refused by Slack (invalid_auth): copy the Bot User"),
        ("app token", "SLACK_APP_TOKEN", "refused by Slack (invalid_auth): generate an app-level"),
        ("slack hangs", "SLACK_BOT_TOKEN", "(no answer within 3s): check this machine's route"),
        ("groq key", "GROQ_API_KEY", "refused by Groq (HTTP 401)"),
        ("groq model", "GROQ_API_KEY", "does not serve GROQ_MODEL=retired-model"),
        ("memory key", "HINDSIGHT_API_KEY", "refused by http://"),
        ("memory url", "HINDSIGHT_URL", "(cannot connect): is it running?"),
        ("database", "SALESMEMORY_DB_URL", "postgresql+psycopg://checker:***@127.0.0.1:"),
        ("port", "PORT", " is not free (Address already in use): is another SalesMemory"),
    ],
)
async def test_check_fails_on_each_bad_part_with_a_line_saying_what_to_do(
    tmp_path: Path,
    fake_slack: FakeSlack,
    groq: FakeGroq,
    hindsight_access: dict[str, str],
    fault: str,
    failing: str,
    saying: str,
) -> None:
    groq.api_key = GROQ_KEY
    extra: dict[str, str] = {}
    memory = dict(hindsight_access)
    if fault == "bot token":
        fake_slack.errors["auth.test"] = "invalid_auth"
    elif fault == "app token":
        fake_slack.errors["apps.connections.open"] = "invalid_auth"
    elif fault == "slack hangs":
        fake_slack.hang.add("auth.test")  # connected, and no answer ever comes
    elif fault == "groq key":
        groq.api_key = "gsk-another"
    elif fault == "groq model":
        extra["GROQ_MODEL"] = "retired-model"
    elif fault == "memory key":
        memory["HINDSIGHT_API_KEY"] = "not-the-key"
    elif fault == "memory url":
        memory["HINDSIGHT_URL"] = f"http://127.0.0.1:{free_port()}"
    elif fault == "database":
        extra["SALESMEMORY_DB_URL"] = f"postgresql://checker:s3cret@127.0.0.1:{free_port()}/x"
    with busy_port() as taken:
        env = socket_mode_env(tmp_path, fake_slack, groq, memory, **extra)
        if fault == "port":  # HTTP mode: the port is where Slack's requests come in
            del env["SLACK_APP_TOKEN"]
            env.update(SLACK_SIGNING_SECRET=SIGNING_SECRET, PORT=str(taken))
        code, found = await run_check(tmp_path, env)
    assert code == 1
    status, detail = found[failing]
    assert status == "FAIL" and saying in detail, found[failing]
    failed = [name for name, (status, _) in found.items() if status == "FAIL"]
    assert failed == [failing]
    assert "s3cret" not in str(found) and "not-the-key" not in str(found)


async def test_check_lists_every_malformed_setting_and_exits_2(tmp_path: Path) -> None:
    env = bot_env(tmp_path, SLACK_BOT_TOKEN="xoxp-user", PORT="http")
    code, found = await run_check(tmp_path, env)
    assert code == 2
    assert {name: status for name, (status, _) in found.items()} == {
        "SLACK_BOT_TOKEN": "FAIL",
        "SLACK_SIGNING_SECRET": "FAIL",
        "PORT": "FAIL",
    }
    assert found["SLACK_BOT_TOKEN"][1] == "is malformed: a bot token starts with 'xoxb-'."


@pytest.mark.parametrize("fault", ["app token", "busy port"])
async def test_a_refused_app_token_or_busy_port_stops_serve_before_the_memory_server(
    tmp_path: Path, fake_slack: FakeSlack, fault: str
) -> None:
    """No HINDSIGHT_URL: had start-up got as far as the memory server, it would have made its
    home and started PostgreSQL there."""
    env = bot_env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_API_URL=fake_slack.api_url,
        LOG_LEVEL="CRITICAL",
    )
    with busy_port() as taken:
        if fault == "app token":
            fake_slack.errors["apps.connections.open"] = "invalid_auth"
            env.update(SLACK_APP_TOKEN="xapp-wrong", PORT=str(free_port()))
        else:
            env.update(SLACK_SIGNING_SECRET=SIGNING_SECRET, PORT=str(taken))
        process = await spawn_bot(tmp_path, env)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    lines = stderr.decode().strip().splitlines()
    assert process.returncode == 2
    expected = (
        "slack error: SLACK_APP_TOKEN was refused"
        if fault == "app token"
        else ("startup error: PORT")
    )
    assert len(lines) == 1 and lines[0].startswith(expected), lines
    assert not (tmp_path / "data").exists()
    assert processes_under(tmp_path, "postgres") == []


BENCHMARKS = sorted(
    f"tests.benchmarks.{path.stem}"
    for path in (ROOT / "tests" / "benchmarks").glob("*.py")
    if 'if __name__ == "__main__":' in path.read_text()
)


@pytest.mark.parametrize(
    ("command", "saying"),
    [
        (["bot"], "Socket Mode"),
        (["bot", "check"], "without starting the bot"),
        (["bot", "digest"], "Copy member ID"),
        (["memory.embedding_model"], "The embedding model the memory server runs"),
        *[([module], "usage:") for module in BENCHMARKS],
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
async def test_help_of_every_entry_point_describes_it_and_does_nothing(
    tmp_path: Path, command: list[str], saying: str
) -> None:
    # Settings that would make any of them do something, were --help not answered first.
    env = bot_env(tmp_path, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SIGNING_SECRET)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        *command,
        "--help",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, stderr.decode()
    text = stdout.decode()
    assert text.startswith("usage:") and saying in " ".join(text.split())
    # A description beyond the usage line and the options.
    assert len(text.split("\n\n")) >= 3, text
    assert list(tmp_path.iterdir()) == []


async def test_version_is_the_installed_packages(tmp_path: Path) -> None:
    process = await spawn_bot(tmp_path, bot_env(tmp_path), "--version")
    stdout, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0
    assert stdout.decode().strip() == f"salesmemory-slack {version('salesmemory-slack')}"
