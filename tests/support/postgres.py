"""A real PostgreSQL for the tests: pg0's, started once per session like the embedded memory
server's (as root, in a user namespace or as an unprivileged user: PostgreSQL refuses root),
with a fresh database per test."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from memory.database import database_url
from memory.embedded import free_port
from memory.embedded_postgres import PG_INSTANCE, PgRunner, pg_runner, start_postgres


class TestPostgres:
    """`start()` blocks until PostgreSQL answers; `new_database()` gives each test its own."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, home: Path) -> None:
        self._home = home
        self._runner: PgRunner | None = None
        self._admin: URL | None = None

    def start(self) -> str:
        self._runner = pg_runner(self._home)
        running = start_postgres(self._runner, free_port(), self._home / "postgres-password")
        self._admin = make_url(database_url(running.uri))
        return self.url

    @property
    def url(self) -> str:
        """The server's own database (postgresql+psycopg://…)."""
        assert self._admin is not None, "PostgreSQL was not started"
        return self._admin.render_as_string(hide_password=False)

    @property
    def port(self) -> int:
        assert self._admin is not None and self._admin.port is not None
        return self._admin.port

    def new_database(self) -> str:
        """A database of its own (tables, advisory locks) on the shared server; its URL."""
        assert self._admin is not None, "PostgreSQL was not started"
        name = f"t_{uuid.uuid4().hex[:16]}"
        engine = create_engine(self._admin, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self._admin.set(database=name).render_as_string(hide_password=False)

    def stop(self) -> None:
        if self._runner is not None:
            self._runner.run("stop", "--name", PG_INSTANCE, check=False)
            self._runner = None
