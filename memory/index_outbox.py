"""The local index's outbox: waiting calls leased to a delivery worker, handed back, accepted
into memory's own queue, or dropped once delivered (keeping memory's operation records of them,
which an erasure deletes), and what the rep was told of each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, func, or_, select

from memory.index_base import IndexBase, offloaded
from memory.index_tables import calls, filed_operations, outbox
from memory.records import CallLog


@dataclass(frozen=True)
class Claimed:
    """A waiting call a worker leased: how delivery has gone so far."""

    call: CallLog
    attempts: int
    operation_id: str | None = None  # memory is filing it in this operation
    failed_operations: int = 0


@dataclass(frozen=True)
class WaitingCall:
    """A call in the outbox, with how delivery has gone so far."""

    call: CallLog
    attempts: int
    last_error: str | None


class OutboxIndex(IndexBase):
    """Delivering the calls the write-ahead kept (memory/index.py) to Hindsight."""

    @offloaded("write")
    def claim_due(self, owner_until: datetime, now: datetime, limit: int) -> list[Claimed]:
        """Lease up to `limit` waiting calls due now, oldest first.

        A call leased by another worker (another replica) is skipped until its lease ends.
        """
        free = or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now)
        due = or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= now)
        with self._engine.begin() as conn:
            rows = conn.execute(
                select(
                    outbox.c.call_id,
                    outbox.c.payload,
                    outbox.c.attempts,
                    outbox.c.operation_id,
                    outbox.c.failed_operations,
                )
                .where(and_(free, due))
                .order_by(outbox.c.kept_at)
                .limit(limit)
            ).all()
            claimed = []
            for row in rows:
                taken = conn.execute(
                    outbox.update()
                    .where(outbox.c.call_id == row.call_id, free)
                    .values(lease_until=owner_until)
                ).rowcount
                if taken == 1:
                    claimed.append(
                        Claimed(
                            CallLog.from_json(row.payload),
                            row.attempts,
                            row.operation_id,
                            row.failed_operations or 0,
                        )
                    )
            return claimed

    @offloaded("write")
    def mark_delivered(self, call_id: str, operations: Sequence[str] = ()) -> int | None:
        """Drop the delivered call's text and keep memory's `operations` for it (an erasure
        deletes them); returns what the rep had been told (None: gone)."""
        with self._engine.begin() as conn:
            conn.execute(delete(outbox).where(outbox.c.call_id == call_id))
            told = conn.execute(
                select(calls.c.confirmed).where(calls.c.call_id == call_id)
            ).scalar()
            if told is not None:
                _keep_operations(conn, call_id, operations)
            return None if told is None else int(told)

    @offloaded("write")
    def release(
        self,
        call_id: str,
        retry_at: datetime | None,
        error: str | None,
        count_attempt: bool,
        lease: datetime | None = None,
        operation_failed: bool = False,
    ) -> None:
        """Give a leased call back: due again at `retry_at` (None: at once). With `lease`, only
        while the call is still under that lease (not since taken by another worker)."""
        values: dict[str, Any] = {
            "lease_until": None,
            "next_attempt_at": retry_at,
            "last_error": (error or "")[:300] or None,
        }
        if count_attempt:
            values["attempts"] = outbox.c.attempts + 1
        if operation_failed:
            values["operation_id"] = None
            values["failed_operations"] = outbox.c.failed_operations + 1
        mine = outbox.c.call_id == call_id
        if lease is not None:
            mine = and_(mine, outbox.c.lease_until == lease)
        with self._engine.begin() as conn:
            conn.execute(outbox.update().where(mine).values(**values))

    @offloaded("write")
    def accept(self, call_id: str, operation_id: str, poll_at: datetime, lease: datetime) -> bool:
        """Memory took the call into `operation_id`: look at it again at `poll_at`. The text
        stays until the operation is done (briefs and the timeline still need it). False when
        the call is no longer this worker's to hold (erased, or its lease ran out)."""
        with self._engine.begin() as conn:
            accepted = (
                conn.execute(
                    outbox.update()
                    .where(outbox.c.call_id == call_id, outbox.c.lease_until == lease)
                    .values(operation_id=operation_id, next_attempt_at=poll_at, lease_until=None)
                ).rowcount
                == 1
            )
            if accepted:
                _keep_operations(conn, call_id, [operation_id])
            return accepted

    @offloaded("write")
    def claim_confirmation(self, call_id: str, told: int) -> int | None:
        """Move what the rep was told forward to `told`, once; returns what it was before.

        None when it was already at `told` or beyond (someone else told them): say nothing.
        """
        with self._engine.begin() as conn:
            before = conn.execute(
                select(calls.c.confirmed).where(calls.c.call_id == call_id)
            ).scalar()
            if before is None or int(before) >= told:
                return None
            moved = conn.execute(
                calls.update()
                .where(calls.c.call_id == call_id, calls.c.confirmed == before)
                .values(confirmed=told)
            ).rowcount
            return int(before) if moved == 1 else None

    @offloaded("read")
    def waiting(self, workspace_id: str | None = None, slug: str | None = None) -> list[CallLog]:
        """Calls not yet in Hindsight, oldest first (optionally one workspace or prospect)."""
        query = select(outbox.c.payload).order_by(outbox.c.kept_at)
        if workspace_id is not None:
            query = query.where(outbox.c.workspace_id == workspace_id)
        if slug is not None:
            query = query.where(outbox.c.slug == slug)
        with self._engine.connect() as conn:
            return [CallLog.from_json(row.payload) for row in conn.execute(query)]

    @offloaded("read")
    def waiting_details(self) -> list[WaitingCall]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(outbox.c.payload, outbox.c.attempts, outbox.c.last_error).order_by(
                    outbox.c.kept_at
                )
            ).all()
        return [WaitingCall(CallLog.from_json(r.payload), r.attempts, r.last_error) for r in rows]

    @offloaded("read")
    def count_waiting(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(outbox)).scalar() or 0)


def _keep_operations(conn: Connection, call_id: str, operations: Sequence[str]) -> None:
    """Remember memory's operation records of a call, each once."""
    for operation_id in operations:
        known = conn.execute(
            select(filed_operations.c.call_id).where(
                filed_operations.c.call_id == call_id,
                filed_operations.c.operation_id == operation_id,
            )
        ).first()
        if known is None:
            conn.execute(
                filed_operations.insert().values(call_id=call_id, operation_id=operation_id)
            )
