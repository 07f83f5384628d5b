"""The local database's engines: SQLite on one machine, PostgreSQL shared by replicas.

What differs between the two lives here: which driver a bare `postgresql://` URL means,
SQLite's WAL and lock waits, PostgreSQL's connect timeout and keepalives (a server that
vanished is noticed in seconds, not when the kernel gives up hours later), and which errors
mean "another writer got there first: run the transaction again".
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

logger = logging.getLogger(__name__)

SQLITE, POSTGRESQL = "sqlite", "postgresql"
SUPPORTED_BACKENDS = (SQLITE, POSTGRESQL)
# The driver the `postgresql` extra installs. SQLAlchemy's default for postgresql:// is
# psycopg2, which this project does not declare.
POSTGRESQL_DRIVER = "psycopg"

# How long SQLite waits for another writer's lock before giving up on one statement.
BUSY_TIMEOUT_SECONDS = 5.0

# How long emptying SQLite's write-ahead log keeps trying while a reader holds it, and the pause
# between tries: long enough for a read to end, short enough not to hold up an erasure's reply.
CHECKPOINT_WITHIN_SECONDS = 2.0
_CHECKPOINT_PAUSE_SECONDS = 0.05

# libpq settings (psycopg and psycopg2 both use libpq), unless the URL sets them itself: a
# server that does not answer a connect fails the request in seconds, and a connection whose
# server vanished without closing it is found dead within ~25 s.
_LIBPQ_DRIVERS = ("psycopg", "psycopg2")
_LIBPQ_DEFAULTS: dict[str, Any] = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}

# SQLSTATEs after which PostgreSQL asks for the transaction to be run again.
_RUN_AGAIN = {"40001", "40P01"}  # serialization_failure, deadlock_detected


def database_url(url: str) -> str:
    """`url` with PostgreSQL's driver made explicit: a bare `postgresql://` (or Heroku-style
    `postgres://`) uses psycopg 3; a URL naming its driver is kept as it is."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    parsed = make_url(url)
    if parsed.drivername == POSTGRESQL:
        parsed = parsed.set(drivername=f"{POSTGRESQL}+{POSTGRESQL_DRIVER}")
        return parsed.render_as_string(hide_password=False)
    return url


def create_database_engine(
    url: str, busy_timeout: float = BUSY_TIMEOUT_SECONDS, **options: Any
) -> Engine:
    """An engine for the local index or the job store, set up for its kind of database."""
    url = database_url(url)
    parsed = make_url(url)
    # A failed statement's error (logged, raised) would otherwise carry its bound values:
    # note text, prospect names.
    options["hide_parameters"] = True
    if parsed.get_backend_name() == SQLITE:
        return _sqlite_engine(url, busy_timeout, **options)
    connect_args: dict[str, Any] = {}
    if parsed.get_driver_name() in _LIBPQ_DRIVERS:
        connect_args = {k: v for k, v in _LIBPQ_DEFAULTS.items() if k not in parsed.query}
    connect_args.update(options.pop("connect_args", {}))
    # pre_ping: a pooled connection the server dropped (restart, failover) is replaced
    # instead of failing the next request.
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **options)


def _sqlite_engine(url: str, busy_timeout: float, **options: Any) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": busy_timeout}, **options)

    @event.listens_for(engine, "connect")
    def _wal(dbapi_connection: Any, _record: Any) -> None:
        # WAL lets reads go on while another process writes.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # Deleted rows are overwritten, not left in free pages: an erased or delivered note
        # leaves no bytes behind in the file (the write-ahead log is emptied after an erasure).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "checkin")
    def _usual_wait(dbapi_connection: Any, _record: Any) -> None:
        # A save may have shortened the lock wait on this connection; the next user gets
        # the usual one.
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        cursor.close()

    return engine


def truncate_wal(engine: Engine, within: float = CHECKPOINT_WITHIN_SECONDS) -> bool:
    """Fold SQLite's write-ahead log into the database and empty it (it still holds pages as
    they were before rows were deleted). True once emptied; False when a reader kept the log
    in use for `within` seconds: its bytes stay until the next try, which is logged."""
    deadline = time.monotonic() + within
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        while True:
            left = deadline - time.monotonic()
            # The checkpoint waits for readers through the busy handler: never past the bound
            # (the connection's usual wait is set back when it returns to the pool).
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {max(1, int(min(left, 0.25) * 1000))}")
            try:
                busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()[0]
            except OperationalError:
                busy = 1  # another checkpoint or writer held the lock
            if not busy:
                return True
            if time.monotonic() + _CHECKPOINT_PAUSE_SECONDS >= deadline:
                logger.warning(
                    "SQLite's write-ahead log stayed in use by a reader for %.1f s: it is "
                    "emptied at the next try",
                    within,
                )
                return False
            time.sleep(_CHECKPOINT_PAUSE_SECONDS)


def is_conflict(error: DBAPIError) -> bool:
    """Whether a failed transaction lost a race with another writer (the same new row
    inserted first, a deadlock, a serialization failure) and should simply run again."""
    if isinstance(error, IntegrityError):
        return True
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return code in _RUN_AGAIN


def with_lock_wait(engine: Engine, seconds: float) -> Engine:
    """The same database and connection pool, but each transaction begun on the returned
    engine waits for another writer's lock at most `seconds` (SQLite's busy wait, PostgreSQL's
    lock_timeout), then fails: for writes that must give up before a deadline of their own."""
    bounded = engine.execution_options()
    wait_ms = max(1, int(seconds * 1000))

    @event.listens_for(bounded, "begin")
    def _bounded_wait(conn: Any) -> None:
        if conn.dialect.name == SQLITE:
            # Connection-wide: set back when the connection returns to the pool (see above).
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {wait_ms}")
        elif conn.dialect.name == POSTGRESQL:
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = {wait_ms}")

    return bounded
