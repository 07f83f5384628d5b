"""The local index's part of erasure: what a confirmed erasure takes, recorded when it is
confirmed, and the local rows it removes at once (memory's part follows, in bot.forget.erase).

An erasure takes exactly the calls that exist when it is confirmed, by id: a call logged
afterwards is never taken, however long memory stays away. Its record keeps an opaque id and
counts; the prospect's name waits only until the receipt that names it is sent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    delete,
    func,
    or_,
    select,
)

from memory.database import CHECKPOINT_WITHIN_SECONDS, truncate_wal
from memory.index_base import IndexBase, offloaded, retry_on_conflict
from memory.index_erasure_rows import (
    Erasure,
    Scope,
    chunks,
    delete_in,
    erasure_from_row,
    filings_under_way,
    operations_of,
    record_erasure,
    taken_calls,
    tidy_prospect,
)
from memory.index_tables import (
    calls,
    confirmations,
    erased_calls,
    erased_operations,
    erasures,
    filed_operations,
    outbox,
)


@dataclass(frozen=True)
class CallCounts:
    """A prospect's calls as the local index knows them (waiting ones included)."""

    total: int
    mine: int
    waiting_mine: int
    waiting_total: int


@dataclass(frozen=True)
class PostedMessage:
    """One of the bot's own messages (a call's confirmation DM)."""

    channel: str
    ts: str


class ErasureIndex(IndexBase):
    """Counting, recording and carrying out erasures in the local index."""

    # The last scrub could not empty the write-ahead log (a reader held it): the resuming
    # loop tries again.
    scrub_due = False

    @offloaded("read")
    def call_counts(self, workspace_id: str, slug: str, rep_id: str) -> CallCounts:
        """How many calls the prospect has, how many are the rep's, and how many of each
        are still waiting for memory."""
        about = [calls.c.workspace_id == workspace_id, calls.c.slug == slug]
        mine = calls.c.rep_id == rep_id
        waiting = calls.c.call_id.in_(select(outbox.c.call_id))
        with self._engine.connect() as conn:

            def count(*where: ColumnElement[bool]) -> int:
                query = select(func.count()).select_from(calls).where(*about, *where)
                return int(conn.execute(query).scalar() or 0)

            return CallCounts(count(), count(mine), count(mine, waiting), count(waiting))

    @offloaded("write")
    @retry_on_conflict
    def start_erasure(
        self,
        workspace_id: str,
        slug: str,
        name: str,
        scope: Scope,
        requested_by: str,
        now: datetime,
        others_allowed: bool = True,
    ) -> Erasure:
        """Record the calls the erasure takes (every rep's, or the asking rep's) and delete
        their local rows in one transaction: index rows, notes still waiting for memory (they
        never reach it now), and what was made from them here. When no call of the prospect is
        left, the prospect goes too, with its health, snoozes, brief views and drafts."""
        about = [calls.c.workspace_id == workspace_id, calls.c.slug == slug]
        # A rep who is no admin takes only their own calls, even for "the whole prospect": a
        # teammate's call saved since the check (it waited for this lock) is never theirs to take.
        if scope == "mine" or not others_allowed:
            about.append(calls.c.rep_id == requested_by)
        with self._engine.begin() as conn:
            taken = taken_calls(conn, about)
            filing = filings_under_way(conn, workspace_id, slug)
            operations = operations_of(conn, taken)
            delete_in(conn, filed_operations, filed_operations.c.call_id, taken)
            waiting = delete_in(conn, outbox, outbox.c.call_id, taken)
            delete_in(conn, calls, calls.c.call_id, taken)
            request = Erasure(
                uuid.uuid4().hex,
                workspace_id,
                requested_by,
                now,
                scope,
                name,
                len(taken),
                waiting,
                tuple(taken),
            )
            record_erasure(conn, request, filing, operations)
            tidy_prospect(conn, workspace_id, slug, requested_by, scope)
        return request

    @offloaded("read")
    def unfinished_erasures(self) -> list[Erasure]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(erasures).where(erasures.c.finished_at.is_(None))).all()
            return [erasure_from_row(conn, row) for row in rows]

    @offloaded("read")
    def confirmations_of(self, call_ids: tuple[str, ...]) -> list[PostedMessage]:
        found: list[PostedMessage] = []
        with self._engine.connect() as conn:
            for chunk in chunks(list(call_ids)):
                rows = conn.execute(
                    select(confirmations.c.channel, confirmations.c.ts).where(
                        confirmations.c.call_id.in_(chunk)
                    )
                ).all()
                found.extend(PostedMessage(row.channel, row.ts) for row in rows)
        return found

    @offloaded("write")
    @retry_on_conflict
    def record_confirmation(self, call_id: str, message: PostedMessage) -> None:
        """Remember the bot's DM about a call, so an erasure of the call can delete it."""
        with self._engine.begin() as conn:
            conn.execute(
                confirmations.insert().values(
                    call_id=call_id, ts=message.ts, channel=message.channel
                )
            )

    @offloaded("write")
    def claim_erasure(self, request_id: str, now: datetime, until: datetime) -> bool:
        """Take the unfinished erasure until `until`, unless another finisher holds it (this
        replica's confirmation, or another replica's resuming loop) or memory refused it and
        its retry is not due: one finisher at a time, so memory's part and the receipt's
        counts are done once."""
        free = or_(erasures.c.next_attempt_at.is_(None), erasures.c.next_attempt_at <= now)
        with self._engine.begin() as conn:
            moved = conn.execute(
                erasures.update()
                .where(erasures.c.request_id == request_id, erasures.c.finished_at.is_(None), free)
                .values(next_attempt_at=until)
            ).rowcount
        return moved == 1

    @offloaded("write")
    def release_erasure(
        self, request_id: str, retry_at: datetime | None, refused: bool = False
    ) -> int:
        """Give an unfinished erasure back, due at `retry_at` (None: the next round); with
        `refused`, memory refused it once more. Returns how often memory has refused it."""
        values: dict[str, Any] = {"next_attempt_at": retry_at}
        if refused:
            values["refusals"] = erasures.c.refusals + 1
        with self._engine.begin() as conn:
            conn.execute(
                erasures.update().where(erasures.c.request_id == request_id).values(**values)
            )
            return int(
                conn.execute(
                    select(erasures.c.refusals).where(erasures.c.request_id == request_id)
                ).scalar()
                or 0
            )

    @offloaded("read")
    def erased_operations(self, request_id: str) -> list[str]:
        """Memory's operation records of the erasure's calls (they hold the notes as sent)."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(erased_operations.c.operation_id).where(
                    erased_operations.c.request_id == request_id
                )
            ).all()
        return sorted(row.operation_id for row in rows)

    @offloaded("read")
    def filings(self, request_id: str) -> list[tuple[str, str]]:
        """(call id, operation id) of the erased calls memory may still be filing."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(erased_calls.c.call_id, erased_calls.c.operation_id).where(
                    erased_calls.c.request_id == request_id,
                    erased_calls.c.operation_id.is_not(None),
                )
            ).all()
        return [(row.call_id, row.operation_id) for row in rows]

    @offloaded("write")
    def filing_ended(self, call_id: str) -> None:
        """Memory's filing of an erased call is over: its document, if any, is there now."""
        with self._engine.begin() as conn:
            conn.execute(
                erased_calls.update()
                .where(erased_calls.c.call_id == call_id)
                .values(operation_id=None)
            )

    @offloaded("write")
    def finish_erasure(self, request: Erasure, documents: int, now: datetime) -> bool | None:
        """Mark the erasure done and wipe the name its receipt needed. True the first time
        (the receipt is due); False when it was finished before; None when it cannot finish
        yet: memory took one of its calls into a filing since its part began."""
        unsettled = (
            select(erased_calls.c.call_id)
            .where(
                erased_calls.c.request_id == request.request_id,
                erased_calls.c.operation_id.is_not(None),
            )
            .exists()
        )
        with self._engine.begin() as conn:
            before = conn.execute(
                select(erasures.c.documents, erasures.c.finished_at).where(
                    erasures.c.request_id == request.request_id
                )
            ).first()
            if before is None or before.finished_at is not None:
                return False
            moved = conn.execute(
                erasures.update()
                .where(
                    erasures.c.request_id == request.request_id,
                    erasures.c.finished_at.is_(None),
                    ~unsettled,
                )
                .values(
                    documents=documents + (before.documents or 0),
                    finished_at=now,
                    receipt_name=None,
                    next_attempt_at=None,
                )
            ).rowcount
            if moved != 1:
                return None
            delete_in(conn, confirmations, confirmations.c.call_id, list(request.call_ids))
            conn.execute(
                delete(erased_operations).where(
                    erased_operations.c.request_id == request.request_id
                )
            )
        return before.documents is None

    @offloaded("write")
    def reopen_erasure_of(self, call_id: str, operation_id: str | None = None) -> None:
        """A call arrived in memory after its erasure finished and could not be deleted
        then, or memory took it into a filing (`operation_id`) as the erasure began: the
        erasure runs again, after that filing (its receipt is not sent twice)."""
        with self._engine.begin() as conn:
            request_id = conn.execute(
                select(erased_calls.c.request_id).where(erased_calls.c.call_id == call_id)
            ).scalar()
            if request_id is None:
                return
            if operation_id is not None:
                conn.execute(
                    erased_calls.update()
                    .where(erased_calls.c.call_id == call_id)
                    .values(operation_id=operation_id)
                )
                known = conn.execute(
                    select(erased_operations.c.operation_id).where(
                        erased_operations.c.request_id == request_id,
                        erased_operations.c.operation_id == operation_id,
                    )
                ).first()
                if known is None:
                    conn.execute(
                        erased_operations.insert().values(
                            request_id=request_id, operation_id=operation_id
                        )
                    )
            conn.execute(
                erasures.update()
                .where(erasures.c.request_id == request_id)
                .values(finished_at=None)
            )

    @offloaded("read")
    def is_erased(self, call_id: str) -> bool:
        """Whether the call was taken by an erasure (so memory must not keep it)."""
        with self._engine.connect() as conn:
            found = conn.execute(
                select(erased_calls.c.call_id).where(erased_calls.c.call_id == call_id)
            ).first()
        return found is not None

    @offloaded("write")
    def scrub_files(self, within: float = CHECKPOINT_WITHIN_SECONDS) -> bool:
        """After an erasure: SQLite overwrites deleted rows as it goes (secure_delete, set
        on every connection), and here its write-ahead log, which still holds the pages as
        they were, is folded into the database and emptied. False when a reader kept the
        log in use for `within` seconds (the next scrub, or the next start, empties it).
        PostgreSQL reclaims dead rows with VACUUM (autovacuum), see docs/privacy.md."""
        if self._engine.dialect.name != "sqlite":
            return True
        self.scrub_due = not truncate_wal(self._engine, within)
        return not self.scrub_due


# What other modules import from here, wherever it is defined.
__all__ = ["CallCounts", "Erasure", "ErasureIndex", "PostedMessage", "Scope"]
