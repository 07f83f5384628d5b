"""Which process runs the digest scheduler, decided by the database its jobs live in.

On PostgreSQL (replicas on many machines): a session-level advisory lock, held on a
connection of its own for as long as the holder lives. When the holder dies, its connection
closes and PostgreSQL releases the lock; another replica's next try gets it. On SQLite (one
machine): an exclusive lock on a file beside the job store, which the kernel releases when the
holder dies. Every method blocks; callers run them off the event loop (bot/infra/scheduler_duty.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from memory.database import POSTGRESQL, SQLITE, create_database_engine

logger = logging.getLogger(__name__)

# One key per database (advisory locks are per database): "the digest scheduler".
SCHEDULER_LOCK_KEY = 0x5A1E_5D16_E570
# Set on the lock's own session, so that PostgreSQL notices a replica whose machine vanished
# (no FIN ever comes) within ~25 s and frees the lock, instead of after the kernel's two hours;
# and so that no idle-session timeout a DBA set ends the session that holds the lock.
_SESSION_SETTINGS = {
    "tcp_keepalives_idle": "10",
    "tcp_keepalives_interval": "5",
    "tcp_keepalives_count": "3",
    "tcp_user_timeout": "20000",
    "idle_session_timeout": "0",
}


class SchedulerLock(Protocol):
    def acquire(self) -> bool:
        """True when this process holds the lock now (it may already have); False when
        another one does. Raises when the database cannot be asked."""

    def check(self) -> bool:
        """Whether this process still holds the lock. Raises when the database cannot be
        asked (the lock is then as good as lost)."""

    def release(self) -> None:
        """Let go of the lock (and anything it holds open); never raises."""

    def describe(self) -> str:
        """Where the lock lives, for the log."""


class AdvisoryLock:
    """A PostgreSQL session-level advisory lock on a dedicated connection."""

    def __init__(self, url: str, key: int = SCHEDULER_LOCK_KEY) -> None:
        self._key = key
        # No pool: the connection is this lock's session, never handed to anything else.
        self._engine = create_database_engine(
            url, poolclass=NullPool, connect_args={"application_name": "salesmemory-scheduler"}
        )
        self._conn: Connection | None = None
        parsed = make_url(url)
        self._where = f"PostgreSQL at {parsed.host or 'localhost'}/{parsed.database}"

    def describe(self) -> str:
        return f"an advisory lock in {self._where}"

    def acquire(self) -> bool:
        conn = self._connection()
        try:
            held = conn.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
            ).scalar()
        except Exception:
            self.release()
            raise
        return bool(held)

    def check(self) -> bool:
        if self._conn is None:
            return False
        try:
            # A session that lost its connection has lost its lock with it; asking pg_locks
            # (not just "SELECT 1") also catches a pooler in transaction mode, where the next
            # query may run on another session that never held the lock.
            held = self._conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND pid = pg_backend_pid()"
                )
            ).scalar()
        except Exception:
            self.release()
            raise
        return bool(held)

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        # Unlocked at once for the next holder (a closed session's lock goes only once its
        # server process has noticed); a connection already broken just goes.
        with contextlib.suppress(Exception):
            conn.execute(text("SELECT pg_advisory_unlock_all()"))
        with contextlib.suppress(Exception):
            conn.invalidate()
        with contextlib.suppress(Exception):
            conn.close()

    def _connection(self) -> Connection:
        if self._conn is None:
            conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            for name, value in _SESSION_SETTINGS.items():
                try:
                    conn.execute(
                        text("SELECT set_config(:name, :value, false)"),
                        {"name": name, "value": value},
                    )
                except DBAPIError:
                    # An older server without this setting: the lock works all the same.
                    logger.debug("PostgreSQL does not know %s; going on without it", name)
            self._conn = conn
        return self._conn


class FileLock:
    """An exclusive lock on a file: one process on this machine at a time."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def describe(self) -> str:
        return f"a lock on {self._path}"

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def check(self) -> bool:
        return self._fd is not None  # a local file's lock is held until we let go

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


class NoLock:
    """A database only this process can see (in-memory SQLite): it always runs the scheduler."""

    def describe(self) -> str:
        return "no lock (an in-memory database is this process's alone)"

    def acquire(self) -> bool:
        return True

    def check(self) -> bool:
        return True

    def release(self) -> None:
        return None


def scheduler_lock(job_store_url: str) -> SchedulerLock:
    """The lock that elects the one process running the scheduler of this job store."""
    parsed = make_url(job_store_url)
    backend = parsed.get_backend_name()
    if backend == POSTGRESQL:
        return AdvisoryLock(job_store_url)
    if backend == SQLITE:
        if not parsed.database or parsed.database == ":memory:":
            return NoLock()
        database = Path(parsed.database)
        return FileLock(database.with_name(database.name + ".scheduler-lock"))
    raise ValueError(f"no scheduler election for {backend} databases")
