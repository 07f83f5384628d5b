"""Copies of a home's databases that stay consistent while the bot runs, and their way back.

SQLite files are copied with SQLite's online backup API, which reads one consistent snapshot
while the bot keeps writing. The embedded memory server's PostgreSQL is dumped with the
`pg_dump` of the PostgreSQL pg0 unpacked into the home (a dump is one snapshot too) and loaded
with its `pg_restore`. Only the server refuses to run as root; these client programs run as
the caller and reach PostgreSQL over its loopback port with the home's password.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url

from memory import reaper
from memory.embedded_postgres import (
    PG_INSTANCE,
    EmbeddedMemoryError,
    pg_runner,
    redacted,
    start_postgres,
)
from memory.embedded_supervision import free_port
from memory.home_secrets import read_secret
from memory.ownership import HomeLock, read_state

# A dump or restore of a large bank takes minutes; one that hangs for an hour is stuck.
_PG_TOOL_SECONDS = 3600.0


class BackupError(Exception):
    """A backup or restore step failed; the message says why and what to do."""


def copy_sqlite(source: Path, target: Path) -> None:
    """`source` copied to `target` (which must not exist) as one consistent snapshot, however
    busy the bot is with it; written aside and renamed, so a cut-short copy is never found."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    # Read-only: a missing source is an error here, never a new empty database.
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            # A single file: the copy must not depend on a write-ahead log beside it.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()
    partial.replace(target)


def memory_home(home: Path) -> Path:
    """Where the embedded memory server of SALESMEMORY_HOME `home` keeps everything."""
    return (home / "hindsight").resolve()


def has_memory_data(home: Path) -> bool:
    """Whether the home holds an embedded memory server's database."""
    return (memory_home(home) / "pg" / "data").exists()


def postgres_bin(home: Path) -> Path:
    """The bin directory of the PostgreSQL pg0 unpacked into this home (pg_dump, pg_restore)."""
    installations = memory_home(home) / "pg" / ".pg0" / "installation"
    found = sorted(installations.glob("*/bin/pg_dump"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise BackupError(
            f"No PostgreSQL programs in {installations}: the embedded memory server of this "
            "home has never started."
        )
    return found[-1].parent


@contextlib.contextmanager
def home_to_itself(home: Path) -> Iterator[None]:
    """The home's ownership lock for the duration: no bot starts its memory server, nor opens
    the home's local database, meanwhile (a bot starting waits for the lock's owner, up to its
    start-up timeout, then stops). Raises `BackupError` while a bot runs on the home."""
    hindsight = memory_home(home)
    hindsight.mkdir(parents=True, exist_ok=True)
    lock = HomeLock(hindsight)
    if not lock.try_acquire():
        raise BackupError(
            f"A bot is running on {home}: stop it first (restore needs the home to itself)."
        )
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def embedded_database(home: Path, pg_user: str | None = None) -> Iterator[str]:
    """A postgresql:// URL of the home's memory database for the duration: the running
    server's when a bot owns the home; otherwise this process takes the home's lock and starts
    PostgreSQL alone (never hindsight-api), and stops it afterwards."""
    hindsight = memory_home(home)
    hindsight.mkdir(parents=True, exist_ok=True)
    lock = HomeLock(hindsight)
    if not lock.try_acquire():
        yield _running_database(home)
        return
    try:
        with own_database(home, pg_user) as url:
            yield url
    finally:
        lock.release()


@contextlib.contextmanager
def own_database(home: Path, pg_user: str | None = None) -> Iterator[str]:
    """The home's memory PostgreSQL started alone, for a caller holding the home's lock."""
    hindsight = memory_home(home)
    # The lock is held: anything still running for this home is an earlier owner's.
    reaper.stop_server(hindsight, include_watchdog=True)
    runner = pg_runner(hindsight / "pg", pg_user)
    try:
        postgres = start_postgres(runner, free_port(), hindsight / "postgres-password")
    except EmbeddedMemoryError as error:
        raise BackupError(f"The memory server's PostgreSQL did not start: {error}") from error
    try:
        yield postgres.uri
    finally:
        runner.run("stop", "--name", PG_INSTANCE, check=False)


def _running_database(home: Path) -> str:
    hindsight = memory_home(home)
    state = read_state(hindsight)
    password = read_secret(hindsight / "postgres-password")
    if state is None or state.status != "ready" or state.postgres_port is None or not password:
        status = state.status if state else "unknown"
        raise BackupError(
            f"The bot on {home} is starting or restarting its memory server (status: "
            f"{status}); try again once it is ready."
        )
    return f"postgresql://hindsight:{password}@127.0.0.1:{state.postgres_port}/hindsight"


def _run_tool(home: Path, tool: str, url: str, *args: str) -> None:
    """Run one of the home's PostgreSQL programs against `url`; the password goes in the
    environment, never on a command line others can read."""
    parsed = make_url(url)
    password = parsed.password or ""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PGPASSWORD": str(password),
        "PGCONNECT_TIMEOUT": "10",
    }
    command = [
        str(postgres_bin(home) / tool),
        "--host",
        parsed.host or "127.0.0.1",
        "--port",
        str(parsed.port or 5432),
        "--username",
        parsed.username or "hindsight",
        *args,
    ]
    try:
        result = subprocess.run(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=_PG_TOOL_SECONDS,
        )
    except subprocess.TimeoutExpired as error:
        raise BackupError(f"{tool} did not finish within {_PG_TOOL_SECONDS:.0f}s") from error
    if result.returncode != 0:
        said = redacted(result.stderr.strip(), str(password))[-800:]
        raise BackupError(f"{tool} failed ({result.returncode}): {said}")


def dump_memory(home: Path, target: Path, pg_user: str | None = None) -> None:
    """The embedded memory server's database, dumped to `target` (pg_dump's custom format)."""
    if not has_memory_data(home):
        raise BackupError(
            f"{home} holds no embedded memory server (no hindsight/pg/data): is "
            "SALESMEMORY_HOME right?"
        )
    partial = target.with_name(target.name + ".partial")
    with embedded_database(home, pg_user) as url:
        database = make_url(url).database or "hindsight"
        _run_tool(home, "pg_dump", url, "--format=custom", f"--file={partial}", database)
    partial.replace(target)


def load_memory(home: Path, dump: Path, pg_user: str | None = None) -> None:
    """A fresh embedded PostgreSQL in `home` (which must hold none) loaded from `dump`, for a
    caller holding the home's lock (`home_to_itself`); hindsight-api finds its tables there at
    the next start. Cut short, it leaves no data."""
    if has_memory_data(home):
        raise BackupError(f"{home} already holds a memory server's database.")
    try:
        with own_database(home, pg_user) as url:
            database = make_url(url).database or "hindsight"
            # One transaction: a failed load leaves the database as pg0 made it.
            _run_tool(
                home,
                "pg_restore",
                url,
                "--no-owner",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={database}",
                str(dump),
            )
    except BaseException:
        remove_memory_data(home)
        raise


def remove_memory_data(home: Path) -> None:
    """What a restore made of the memory server's database, for a caller holding the lock
    that saw none there before."""
    shutil.rmtree(memory_home(home) / "pg" / "data", ignore_errors=True)
