"""Creating the local index's tables, and bringing a database made by an older version up to
date: columns and indexes it lacks, tables it kept under older shapes, and a one-time VACUUM
of an older SQLite file."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import Connection, Engine, MetaData, Table, inspect, select, text
from sqlalchemy.exc import OperationalError

from memory.database import truncate_wal
from memory.index_tables import (
    TOLD_STORED,
    calls,
    drafts,
    erasures,
    llm_usage,
    metadata,
    prospects,
)

logger = logging.getLogger(__name__)


# The PostgreSQL advisory lock (a transaction's own) that lets one replica at a time create or
# upgrade the schema: replicas starting together never race to create the same table.
SCHEMA_LOCK_KEY = 0x5A1E_5D1C_0001

# SQLite's `PRAGMA user_version` once the file was rewritten by VACUUM: rows deleted by
# versions that did not set secure_delete left their bytes in free pages until then.
COMPACTED_VERSION = 1


def create_and_upgrade(engine: Engine) -> None:
    """Create missing tables; bring a database from an older version up to date."""
    _upgrade_tables(engine)
    if engine.dialect.name == "sqlite":
        _compact_once(engine)
        # Also empties a log an erasure's scrub could not (a reader held it then).
        truncate_wal(engine)


def _compact_once(engine: Engine) -> None:
    """Rewrite an SQLite file once (VACUUM): what older versions deleted without
    secure_delete, and the forgets table they named prospects in, leave no bytes behind."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if (conn.exec_driver_sql("PRAGMA user_version").scalar() or 0) >= COMPACTED_VERSION:
            return
        try:
            conn.exec_driver_sql("VACUUM")
        except OperationalError:
            # Another process holds the file: the next start tries again.
            logger.warning("Could not compact the local database (busy); trying at next start")
            return
        conn.exec_driver_sql(f"PRAGMA user_version = {COMPACTED_VERSION}")
    logger.info("Compacted the local database once: no deleted row's bytes stay in it")


def _upgrade_tables(engine: Engine) -> None:
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Held to the end of this transaction; PostgreSQL's DDL is transactional, so the
            # next replica sees every table made, or none.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
        metadata.create_all(conn)
        prospect_columns = {c["name"] for c in inspect(conn).get_columns("prospects")}
        if "last_contact" not in prospect_columns:
            conn.execute(text("ALTER TABLE prospects ADD COLUMN last_contact DATE"))
            conn.execute(
                text(
                    "UPDATE prospects SET last_contact = (SELECT max(calls.call_date) FROM calls "
                    "WHERE calls.workspace_id = prospects.workspace_id "
                    "AND calls.slug = prospects.slug)"
                )
            )
        # Tables made before these indexes existed get them now.
        for index in (*calls.indexes, *prospects.indexes, *llm_usage.indexes, *drafts.indexes):
            index.create(conn, checkfirst=True)
        names = inspect(conn).get_table_names()
        call_columns = {c["name"] for c in inspect(conn).get_columns("calls")}
        if "confirmed" not in call_columns:
            # Calls logged before confirmations were tracked were confirmed back then.
            conn.execute(
                text(
                    f"ALTER TABLE calls ADD COLUMN confirmed INTEGER NOT NULL DEFAULT {TOLD_STORED}"
                )
            )
        outbox_columns = {c["name"] for c in inspect(conn).get_columns("outbox")}
        if "operation_id" not in outbox_columns:
            conn.execute(text("ALTER TABLE outbox ADD COLUMN operation_id VARCHAR(64)"))
        if "failed_operations" not in outbox_columns:
            conn.execute(
                text("ALTER TABLE outbox ADD COLUMN failed_operations INTEGER NOT NULL DEFAULT 0")
            )
        _add_columns(
            conn,
            "erasures",
            {
                "next_attempt_at": "TIMESTAMP WITH TIME ZONE"
                if conn.dialect.name == "postgresql"
                else "DATETIME",
                "refusals": "INTEGER NOT NULL DEFAULT 0",
            },
        )
        _add_columns(conn, "erased_calls", {"operation_id": "VARCHAR(64)"})
        _add_columns(conn, "deal_health", {"judged_by": "VARCHAR(32) NOT NULL DEFAULT ''"})
        if "forgets" in names:
            _move_forgets(conn)
        if "pending_calls" in names:
            moved = conn.execute(
                text(
                    "INSERT INTO outbox (call_id, workspace_id, slug, payload, attempts, kept_at) "
                    "SELECT call_id, workspace_id, slug, payload, attempts, kept_at "
                    "FROM pending_calls WHERE call_id NOT IN (SELECT call_id FROM outbox)"
                )
            ).rowcount
            conn.execute(text("DROP TABLE pending_calls"))
            logger.info("Moved %d kept call(s) into the delivery outbox", moved)


def _add_columns(conn: Connection, table: str, columns: dict[str, str]) -> None:
    """Columns a table made by an older version lacks (name -> SQL type and default)."""
    present = {c["name"] for c in inspect(conn).get_columns(table)}
    for name, kind in columns.items():
        if name not in present:
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {kind}"))


def _move_forgets(conn: Connection) -> None:
    """Databases of older versions kept forgets by the prospect's name: an unfinished one
    becomes an erasure of that prospect's tag (as it was asked), and the names go."""
    old = Table("forgets", MetaData(), autoload_with=conn)  # typed: dates come back as dates
    rows = conn.execute(select(old).where(old.c.finished_at.is_(None))).all()
    for row in rows:
        conn.execute(
            erasures.insert().values(
                request_id=uuid.uuid4().hex,
                workspace_id=row.workspace_id,
                requested_by=row.requested_by,
                requested_at=row.requested_at,
                scope="prospect",
                receipt_name=row.name,
                notes=row.notes,
                waiting=row.waiting,
                legacy_slug=row.slug,
            )
        )
    conn.execute(text("DROP TABLE forgets"))
    logger.info("Moved %d unfinished forget(s) to erasures", len(rows))
