"""The local index's digest settings and runs: when each rep's digest arrives, and whether this
week's went out (claimed once across processes and replicas)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, select, update

from memory.index_base import IndexBase, aware, offloaded, retry_on_conflict
from memory.index_tables import digest_runs, digest_settings


@dataclass(frozen=True)
class DigestSetting:
    """When a rep's digest arrives: `day` (mon…sun) at `hour`:00 in their time zone."""

    workspace_id: str
    rep_id: str
    tz: str
    day: str = "mon"
    hour: int = 8
    enabled: bool = True


class DigestIndex(IndexBase):
    """Digest settings and runs (part of LocalIndex)."""

    @offloaded("read")
    def digest_setting(self, workspace_id: str, rep_id: str) -> DigestSetting | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(digest_settings).where(
                    digest_settings.c.workspace_id == workspace_id,
                    digest_settings.c.rep_id == rep_id,
                )
            ).first()
        return _setting(row) if row else None

    @offloaded("read")
    def digest_settings(self) -> list[DigestSetting]:
        with self._engine.connect() as conn:
            return [_setting(row) for row in conn.execute(select(digest_settings))]

    @offloaded("write")
    @retry_on_conflict
    def move_rep(self, workspace_id: str, rep_id: str, tz: str) -> bool:
        """Store the enrolled rep's new time zone, touching nothing else of their setting;
        False when they are not enrolled or were there already."""
        with self._engine.begin() as conn:
            moved = conn.execute(
                update(digest_settings)
                .where(
                    digest_settings.c.workspace_id == workspace_id,
                    digest_settings.c.rep_id == rep_id,
                    digest_settings.c.tz != tz,
                )
                .values(tz=tz)
            )
            return bool(moved.rowcount)

    @offloaded("write")
    @retry_on_conflict
    def save_digest_setting(self, setting: DigestSetting, only_if_missing: bool = False) -> bool:
        """Save (replace) a rep's setting; with `only_if_missing`, keep an existing one."""
        with self._engine.begin() as conn:
            where = and_(
                digest_settings.c.workspace_id == setting.workspace_id,
                digest_settings.c.rep_id == setting.rep_id,
            )
            if only_if_missing and conn.execute(select(digest_settings).where(where)).first():
                return False
            conn.execute(delete(digest_settings).where(where))
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
            return True

    @offloaded("write")
    def remove_digest_setting(self, workspace_id: str, rep_id: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                delete(digest_settings).where(
                    digest_settings.c.workspace_id == workspace_id,
                    digest_settings.c.rep_id == rep_id,
                )
            )

    @offloaded("write")
    @retry_on_conflict
    def claim_digest(
        self, workspace_id: str, rep_id: str, period: str, now: datetime, lease: timedelta
    ) -> int | None:
        """Claim this period's digest for sending; returns the attempt number, or None when
        it was sent already or another process is sending it right now."""
        key = and_(
            digest_runs.c.workspace_id == workspace_id,
            digest_runs.c.rep_id == rep_id,
            digest_runs.c.period == period,
        )
        with self._engine.begin() as conn:
            row = conn.execute(select(digest_runs).where(key)).first()
            if row is None:
                conn.execute(
                    digest_runs.insert().values(
                        workspace_id=workspace_id,
                        rep_id=rep_id,
                        period=period,
                        status="claimed",
                        attempts=1,
                        claimed_until=now + lease,
                        updated_at=now,
                    )
                )
                return 1
            if row.status == "sent":
                return None
            until = row.claimed_until
            if until is not None and until.tzinfo is None:
                until = until.replace(tzinfo=UTC)
            if row.status == "claimed" and until is not None and until > now:
                return None
            attempt = int(row.attempts) + 1
            moved = conn.execute(
                digest_runs.update()
                .where(key, digest_runs.c.attempts == row.attempts)
                .values(
                    status="claimed", attempts=attempt, claimed_until=now + lease, updated_at=now
                )
            ).rowcount
            return attempt if moved == 1 else None

    @offloaded("write")
    def finish_digest(
        self, workspace_id: str, rep_id: str, period: str, sent: bool, now: datetime
    ) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                digest_runs.update()
                .where(
                    digest_runs.c.workspace_id == workspace_id,
                    digest_runs.c.rep_id == rep_id,
                    digest_runs.c.period == period,
                )
                .values(status="sent" if sent else "failed", claimed_until=None, updated_at=now)
            )

    @offloaded("read")
    def digest_run_status(self, workspace_id: str, rep_id: str, period: str) -> str | None:
        with self._engine.connect() as conn:
            status = conn.execute(
                select(digest_runs.c.status).where(
                    digest_runs.c.workspace_id == workspace_id,
                    digest_runs.c.rep_id == rep_id,
                    digest_runs.c.period == period,
                )
            ).scalar()
        return None if status is None else str(status)

    @offloaded("read")
    def last_digest_sent(self, workspace_id: str, rep_id: str) -> datetime | None:
        """When the rep's latest scheduled digest went out (None: never)."""
        with self._engine.connect() as conn:
            sent = conn.execute(
                select(func.max(digest_runs.c.updated_at)).where(
                    digest_runs.c.workspace_id == workspace_id,
                    digest_runs.c.rep_id == rep_id,
                    digest_runs.c.status == "sent",
                )
            ).scalar()
        return None if sent is None else aware(sent)


def _setting(row: Any) -> DigestSetting:
    return DigestSetting(row.workspace_id, row.rep_id, row.tz, row.day, row.hour, bool(row.enabled))
