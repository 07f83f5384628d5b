"""The local index: metadata only, for typeahead, enumeration and notes waiting for Hindsight.

It holds no note text except calls that could not reach Hindsight yet, and can be rebuilt
from Hindsight. SQLite by default; any SQLAlchemy URL (PostgreSQL) works.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    func,
    select,
)
from sqlalchemy.engine import make_url

from memory.prospects import prospect_slug
from memory.records import CallLog

_metadata = MetaData()

prospects = Table(
    "prospects",
    _metadata,
    Column("workspace_id", String(32), primary_key=True),
    Column("slug", String(128), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("company", String(128), nullable=False, default=""),
)

calls = Table(
    "calls",
    _metadata,
    Column("call_id", String(128), primary_key=True),
    Column("workspace_id", String(32), nullable=False, index=True),
    Column("slug", String(128), nullable=False),
    Column("rep_id", String(32), nullable=False),
    Column("call_date", Date, nullable=False),
    Column("outcome", String(32), nullable=False),
)

pending_calls = Table(
    "pending_calls",
    _metadata,
    Column("call_id", String(128), primary_key=True),
    Column("workspace_id", String(32), nullable=False, index=True),
    Column("slug", String(128), nullable=False),
    Column("payload", Text, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("kept_at", DateTime(timezone=True), nullable=False),
)


digest_settings = Table(
    "digest_settings",
    _metadata,
    Column("workspace_id", String(32), primary_key=True),
    Column("rep_id", String(32), primary_key=True),
    Column("tz", String(64), nullable=False),
    Column("day", String(3), nullable=False),
    Column("hour", Integer, nullable=False),
    Column("enabled", Integer, nullable=False),
)


@dataclass(frozen=True)
class DigestSetting:
    """When a rep's digest arrives: `day` (mon…sun) at `hour`:00 in their time zone."""

    workspace_id: str
    rep_id: str
    tz: str
    day: str = "mon"
    hour: int = 8
    enabled: bool = True


@dataclass(frozen=True)
class KnownProspect:
    slug: str
    name: str
    company: str
    last_contact: date | None
    interactions: int


class LocalIndex:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        _metadata.create_all(engine)

    @classmethod
    def open(cls, url: str) -> LocalIndex:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return cls(create_engine(url))

    def close(self) -> None:
        self._engine.dispose()

    def record_call(self, call: CallLog) -> bool:
        """Remember a call's metadata; False when this call id was recorded already."""
        with self._engine.begin() as conn:
            exists = conn.execute(
                select(calls.c.call_id).where(calls.c.call_id == call.call_id)
            ).first()
            self._upsert_prospect(conn, call)
            if exists:
                return False
            conn.execute(
                calls.insert().values(
                    call_id=call.call_id,
                    workspace_id=call.workspace_id,
                    slug=call.slug,
                    rep_id=call.rep_id,
                    call_date=call.call_date,
                    outcome=call.outcome,
                )
            )
            return True

    def _upsert_prospect(self, conn: Connection, call: CallLog) -> None:
        row = conn.execute(
            select(prospects).where(
                prospects.c.workspace_id == call.workspace_id, prospects.c.slug == call.slug
            )
        ).first()
        if row is None:
            conn.execute(
                prospects.insert().values(
                    workspace_id=call.workspace_id,
                    slug=call.slug,
                    name=call.prospect,
                    company=call.company or "",
                )
            )
        elif call.company and call.company != row.company:
            conn.execute(
                prospects.update()
                .where(prospects.c.workspace_id == call.workspace_id, prospects.c.slug == call.slug)
                .values(company=call.company)
            )

    def known_prospects(self, workspace_id: str, rep_id: str | None = None) -> list[KnownProspect]:
        """A workspace's prospects (or only those `rep_id` logged calls with), latest first."""
        stats_query = select(
            calls.c.slug,
            func.max(calls.c.call_date).label("last_contact"),
            func.count().label("interactions"),
        ).where(calls.c.workspace_id == workspace_id)
        if rep_id is not None:
            stats_query = stats_query.where(calls.c.rep_id == rep_id)
        stats = stats_query.group_by(calls.c.slug).subquery()
        query = (
            select(prospects, stats.c.last_contact, stats.c.interactions)
            .join(stats, stats.c.slug == prospects.c.slug, isouter=rep_id is None)
            .where(prospects.c.workspace_id == workspace_id)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        known = [
            KnownProspect(
                slug=row.slug,
                name=row.name,
                company=row.company,
                last_contact=row.last_contact,
                interactions=row.interactions or 0,
            )
            for row in rows
        ]
        return sorted(known, key=lambda p: (p.last_contact or date.min, p.name), reverse=True)

    def search_prospects(self, workspace_id: str, typed: str, limit: int = 20) -> list[str]:
        """Known names whose slug contains what was typed (typeahead), most recent first."""
        needle = prospect_slug(typed)
        return [p.name for p in self.known_prospects(workspace_id) if needle in p.slug][:limit]

    def prospect(self, workspace_id: str, slug: str) -> KnownProspect | None:
        return next((p for p in self.known_prospects(workspace_id) if p.slug == slug), None)

    def keep_pending(self, call: CallLog) -> None:
        """Keep a call that could not reach Hindsight, note text and all, until it can."""
        with self._engine.begin() as conn:
            attempts = conn.execute(
                select(pending_calls.c.attempts).where(pending_calls.c.call_id == call.call_id)
            ).scalar()
            conn.execute(delete(pending_calls).where(pending_calls.c.call_id == call.call_id))
            conn.execute(
                pending_calls.insert().values(
                    call_id=call.call_id,
                    workspace_id=call.workspace_id,
                    slug=call.slug,
                    payload=call.to_json(),
                    attempts=(attempts or 0) + 1,
                    kept_at=datetime.now(UTC),
                )
            )

    def pending(self, workspace_id: str | None = None, slug: str | None = None) -> list[CallLog]:
        query = select(pending_calls.c.payload).order_by(pending_calls.c.kept_at)
        if workspace_id is not None:
            query = query.where(pending_calls.c.workspace_id == workspace_id)
        if slug is not None:
            query = query.where(pending_calls.c.slug == slug)
        with self._engine.connect() as conn:
            return [CallLog.from_json(row.payload) for row in conn.execute(query)]

    def delivered(self, call_id: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(pending_calls).where(pending_calls.c.call_id == call_id))

    def forget_prospect(self, workspace_id: str, slug: str) -> None:
        with self._engine.begin() as conn:
            for table in (calls, pending_calls):
                conn.execute(
                    delete(table).where(table.c.workspace_id == workspace_id, table.c.slug == slug)
                )
            conn.execute(
                delete(prospects).where(
                    prospects.c.workspace_id == workspace_id, prospects.c.slug == slug
                )
            )

    def digest_setting(self, workspace_id: str, rep_id: str) -> DigestSetting | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(digest_settings).where(
                    digest_settings.c.workspace_id == workspace_id,
                    digest_settings.c.rep_id == rep_id,
                )
            ).first()
        return _setting(row) if row else None

    def digest_settings(self) -> list[DigestSetting]:
        with self._engine.connect() as conn:
            return [_setting(row) for row in conn.execute(select(digest_settings))]

    def save_digest_setting(self, setting: DigestSetting) -> None:
        with self._engine.begin() as conn:
            self._delete_setting(conn, setting.workspace_id, setting.rep_id)
            conn.execute(
                digest_settings.insert().values(
                    workspace_id=setting.workspace_id,
                    rep_id=setting.rep_id,
                    tz=setting.tz,
                    day=setting.day,
                    hour=setting.hour,
                    enabled=int(setting.enabled),
                )
            )

    def remove_digest_setting(self, workspace_id: str, rep_id: str) -> None:
        with self._engine.begin() as conn:
            self._delete_setting(conn, workspace_id, rep_id)

    @staticmethod
    def _delete_setting(conn: Connection, workspace_id: str, rep_id: str) -> None:
        conn.execute(
            delete(digest_settings).where(
                digest_settings.c.workspace_id == workspace_id,
                digest_settings.c.rep_id == rep_id,
            )
        )


def _setting(row: Any) -> DigestSetting:
    return DigestSetting(row.workspace_id, row.rep_id, row.tz, row.day, row.hour, bool(row.enabled))
