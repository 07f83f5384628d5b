"""The embedded memory server is reachable only with its home's API key, gets none of the bot's
secrets in its environment, and its PostgreSQL has a password made for its home. Real
processes, real HTTP, real PostgreSQL."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest

from bot.infra.memory_setup import sales_bank_setup
from memory.embedded import EmbeddedHindsight, free_port
from memory.embedded_postgres import (
    LEGACY_PASSWORD,
    PG_INSTANCE,
    _pg0_start,
    pg_runner,
    start_postgres,
)
from memory.ownership import read_state
from memory.store import MemoryRejected, MemoryUnavailable, ProspectMemory

PARENT_SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-parent-only",
    "SLACK_SIGNING_SECRET": "signing-parent-only",
    "SALESMEMORY_DB_URL": "postgresql://bot:db-password-parent-only@db/salesmemory",
    "GROQ_API_KEY": "gsk-parent-only",
}


def status_of(url: str, authorization: str | None = None) -> int:
    request = urllib.request.Request(url)
    if authorization is not None:
        request.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def refused(dsn: str) -> bool:
    try:
        psycopg.connect(dsn, connect_timeout=5).close()
    except psycopg.OperationalError as error:
        assert "password authentication failed" in str(error)
        return True
    return False


async def test_the_memory_server_refuses_a_request_without_its_homes_key(
    hindsight_server: EmbeddedHindsight | None,
) -> None:
    assert hindsight_server is not None and hindsight_server.url is not None
    banks = f"{hindsight_server.url}/v1/default/banks"
    assert status_of(banks) == 401
    assert status_of(banks, "Bearer not-the-key") == 401
    assert status_of(banks, f"Bearer {hindsight_server.api_key}") == 200
    # Health stays open: the supervisor and other processes on the home probe it.
    assert status_of(f"{hindsight_server.url}/health") == 200

    keyless = ProspectMemory.connect(hindsight_server.url, "keyless")
    try:
        with pytest.raises(MemoryRejected):
            await keyless.timeline("T1", "anyone")
    finally:
        await keyless.aclose()


async def test_a_refused_key_never_reaches_the_error_it_raises(
    hindsight_server: EmbeddedHindsight | None,
) -> None:
    assert hindsight_server is not None and hindsight_server.url is not None
    wrong = ProspectMemory.connect(
        hindsight_server.url, "wrong-key", "not-the-key-5f3a9c", setup=sales_bank_setup()
    )
    try:
        # Setting a bank up goes through the client's own HTTP layer, whose error holds the
        # request's headers.
        with pytest.raises(MemoryUnavailable) as raised:
            await wrong.configure_bank("T1")
    finally:
        await wrong.aclose()
    # Nor any exception a logged traceback of it would print.
    error: BaseException | None = raised.value
    while error is not None:
        assert "not-the-key-5f3a9c" not in repr(error)
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)


def environ(pid: int) -> str:
    return Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")


def test_the_server_inherits_no_bot_secret_and_each_home_has_its_own_key_and_password(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    hindsight_server: EmbeddedHindsight | None,
) -> None:
    assert hindsight_server is not None
    for name, value in PARENT_SECRETS.items():
        monkeypatch.setenv(name, value)
    server = EmbeddedHindsight(tmp_path)
    server.start()
    try:
        state = read_state(server.home)
        assert state is not None and state.api_pid and state.postgres_pid and state.watchdog_pid
        api_env = environ(state.api_pid)
        assert f"HINDSIGHT_API_TENANT_API_KEY={server.api_key}" in api_env
        for pid in (state.api_pid, state.postgres_pid, state.watchdog_pid):
            seen = environ(pid)
            assert not [name for name, value in PARENT_SECRETS.items() if value in seen], pid

        assert server.api_key != hindsight_server.api_key
        dsn, other = server.database_url(), hindsight_server.database_url()
        assert dsn is not None and other is not None
        assert dsn.split("@")[0] != other.split("@")[0]  # user:password differ
        for secret in ("api-key", "postgres-password"):
            assert (server.home / secret).stat().st_mode & 0o777 == 0o600
        assert refused(dsn.replace(dsn.split("@")[0], f"postgresql://hindsight:{LEGACY_PASSWORD}"))

        # Another process on the home (`python -m bot digest`) reads the same key and database.
        user = EmbeddedHindsight(tmp_path)
        assert user.start() == server.url and not user.owner
        assert user.api_key == server.api_key
        assert user.database_url() == dsn
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        server.stop()


def test_a_home_made_with_the_fixed_password_is_given_its_own_on_the_next_start(
    tmp_path: Path,
) -> None:
    runner = pg_runner(tmp_path / "pg")
    password_file = tmp_path / "postgres-password"
    # As every earlier version made a home: initialised with the password in our source.
    _pg0_start(runner, free_port(), LEGACY_PASSWORD, None)
    runner.run("stop", "--name", PG_INSTANCE)
    try:
        running = start_postgres(runner, free_port(), password_file)
        password = password_file.read_text().strip()
        assert password and password != LEGACY_PASSWORD
        with psycopg.connect(running.uri, connect_timeout=5) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("hindsight",)
        old = running.uri.replace(f":{password}@", f":{LEGACY_PASSWORD}@")
        superuser = old.replace("hindsight:", "postgres:", 1)
        assert refused(old) and refused(superuser)
        runner.run("stop", "--name", PG_INSTANCE)
        # And it starts again with the password it now has.
        again = start_postgres(runner, free_port(), password_file)
        with psycopg.connect(again.uri, connect_timeout=5) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        runner.run("stop", "--name", PG_INSTANCE, check=False)
