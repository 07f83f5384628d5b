"""The local index: metadata, digest settings, and calls waiting to reach Hindsight.

It holds no note text except calls not yet delivered to Hindsight (the write-ahead outbox),
and can be rebuilt from Hindsight. SQLite on one machine (the default); PostgreSQL when
several replicas share it (memory/database.py holds what differs between the two).

Every public method is a coroutine that runs its query on a small pool of its own threads:
a locked or slow database delays only the request that needs it, never the event loop.
This module holds the calls, the outbox and the prospects; erasure is in
memory/index_forgets.py, the digest's settings and runs in memory/index_digests.py, the
per-rep extras (briefs seen, health, snoozes, alerts, drafts, the model's usage, the team
view) in memory/index_pipeline.py, and the Slack requests already handled in
memory/index_requests.py.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, exists, func, or_, select

from memory.database import with_lock_wait
from memory.index_base import offloaded, retry_on_conflict
from memory.index_digests import DigestIndex, DigestSetting
from memory.index_forgets import CallCounts, Erasure, ErasureIndex, PostedMessage
from memory.index_pipeline import (
    BriefView,
    DealHealth,
    KeptDraft,
    LoggedCall,
    PipelineIndex,
    TaskUsage,
)
from memory.index_requests import RequestIndex
from memory.index_tables import (
    TOLD_STORED,
    TOLD_WAITING,
    UNCONFIRMED,
    calls,
    erased_calls,
    filed_operations,
    outbox,
    prospects,
    refiled,
)
from memory.prospects import (
    MAX_NAME_WORDS,
    MAX_PROSPECT_NAME,
    clean_prospect_name,
    prospect_slug,
)
from memory.records import CallLog


class CallErased(Exception):
    """A call was submitted again (a retried form, a replayed request) under the id of a call
    an erasure took: it is not kept, so the erased call stays erased."""

    def __init__(self, call_id: str) -> None:
        super().__init__(f"call {call_id} was erased and is not saved again")
        self.call_id = call_id


@dataclass(frozen=True)
class KnownProspect:
    slug: str
    name: str
    company: str
    last_contact: date | None
    interactions: int


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


class LocalIndex(PipelineIndex, DigestIndex, ErasureIndex, RequestIndex):
    """The whole local index (see the module's docstring for where each part lives)."""

    def quick_claims(self, wait: float) -> RequestIndex:
        """Claims on Slack requests that give up on a locked database within `wait` seconds
        (SQLite's busy wait, PostgreSQL's lock_timeout), on the same connections and threads
        of their own: a claim stands before a request's ack, which Slack waits 3 s for, and
        one waiting for a lock never delays a call's save. Closing this index closes it."""
        return RequestIndex(with_lock_wait(self._engine, wait), upgrade=False)

    # -- calls and the write-ahead outbox -------------------------------------------------

    @offloaded("save")
    @retry_on_conflict
    def write_ahead(
        self,
        call: CallLog,
        now: datetime | None = None,
        deadline: float | None = None,
        replace: bool = True,
    ) -> bool:
        """Keep a submitted call, note and all, until Hindsight has it; one transaction.

        With `deadline` (a `time.monotonic()` instant) the write either commits before it or
        raises: a save the rep is told failed never lands later. False when this call was
        submitted before with the same content; a waiting call submitted again with other
        content (the rep fixed something) is replaced, unless `replace` is False (then any
        call already there wins and this one gives False). Raises CallErased when an
        erasure took a call with this id.
        """
        with self._engine.begin() as conn:
            self._bound_waits(conn, deadline)
            erased = conn.execute(
                select(erased_calls.c.call_id).where(erased_calls.c.call_id == call.call_id)
            ).first()
            if erased is not None:
                raise CallErased(call.call_id)
            waiting = conn.execute(
                select(outbox.c.payload).where(outbox.c.call_id == call.call_id)
            ).scalar()
            if self._call_exists(conn, call.call_id):
                if not replace or waiting is None or waiting == call.to_json():
                    return False
                self._upsert_prospect(conn, call)
                conn.execute(
                    calls.update()
                    .where(calls.c.call_id == call.call_id)
                    .values(slug=call.slug, call_date=call.call_date, outcome=call.outcome)
                )
                conn.execute(
                    outbox.update()
                    .where(outbox.c.call_id == call.call_id)
                    .values(slug=call.slug, payload=call.to_json())
                )
                return True
            self._upsert_prospect(conn, call)
            _insert_call(conn, call, UNCONFIRMED)
            conn.execute(
                outbox.insert().values(
                    call_id=call.call_id,
                    workspace_id=call.workspace_id,
                    slug=call.slug,
                    payload=call.to_json(),
                    attempts=0,
                    kept_at=now or datetime.now(UTC),
                )
            )
            self._check_deadline(deadline)
            return True

    @offloaded("read")
    def call_logged(self, call_id: str) -> bool:
        """Whether a call with this id is in the index (delivered or waiting)."""
        with self._engine.connect() as conn:
            return self._call_exists(conn, call_id)

    def _bound_waits(self, conn: Connection, deadline: float | None) -> None:
        """Make this transaction wait for locks no longer than `deadline` allows."""
        self._check_deadline(deadline)
        if deadline is None:
            return
        left_ms = max(1, int((deadline - time.monotonic()) * 1000))
        if conn.dialect.name == "sqlite":
            # Connection-wide: set back when the connection returns to the pool (see open()).
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {left_ms}")
        elif conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = {left_ms}")

    @staticmethod
    def _check_deadline(deadline: float | None) -> None:
        if deadline is not None and time.monotonic() >= deadline:
            raise TimeoutError("the local database did not take the call in time")

    @offloaded("write")
    @retry_on_conflict
    def record_delivered_call(self, call: CallLog) -> bool:
        """Index a call that is already in Hindsight (no outbox row); False if known."""
        with self._engine.begin() as conn:
            self._upsert_prospect(conn, call)
            if self._call_exists(conn, call.call_id):
                return False
            _insert_call(conn, call, TOLD_STORED)
            return True

    @staticmethod
    def _call_exists(conn: Connection, call_id: str) -> bool:
        found = conn.execute(select(calls.c.call_id).where(calls.c.call_id == call_id)).first()
        return found is not None

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
                    last_contact=call.call_date,
                )
            )
            return
        changes: dict[str, Any] = {}
        if call.company and call.company != row.company:
            changes["company"] = call.company
        if row.last_contact is None or call.call_date > row.last_contact:
            changes["last_contact"] = call.call_date
        if changes:
            conn.execute(
                prospects.update()
                .where(prospects.c.workspace_id == call.workspace_id, prospects.c.slug == call.slug)
                .values(**changes)
            )

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

    # -- prospects ------------------------------------------------------------------------

    @offloaded("read")
    def known_prospects(self, workspace_id: str, rep_id: str | None = None) -> list[KnownProspect]:
        """A workspace's prospects (or only those `rep_id` logged calls with), latest first."""
        with self._engine.connect() as conn:
            return _known_prospects(conn, workspace_id, rep_id)

    @offloaded("read")
    def search_prospects(
        self, workspace_id: str, typed: str, limit: int = 20, rep_id: str | None = None
    ) -> list[str]:
        """Known names whose slug contains what was typed (typeahead), most recent first;
        filtered and cut in SQL, so it costs the same with 10 prospects or 10,000. With
        `rep_id`, only prospects that rep has logged a call with."""
        if len(clean_prospect_name(typed)) > MAX_PROSPECT_NAME:
            return []  # no stored name is that long, and the LIKE would cost the most
        query = (
            select(prospects.c.name)
            .where(
                prospects.c.workspace_id == workspace_id,
                prospects.c.slug.contains(prospect_slug(typed), autoescape=True),
                *_logged_by(workspace_id, rep_id),
            )
            .order_by(prospects.c.last_contact.desc(), prospects.c.name.desc())
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return [row.name for row in conn.execute(query)]

    @offloaded("read")
    def prospects_with_words(
        self, workspace_id: str, words: list[str], limit: int = 50, rep_id: str | None = None
    ) -> list[KnownProspect]:
        """Prospects whose name holds every one of `words` as a whole word ("okafor" finds
        james-okafor, "oka" does not), most recent first (with `rep_id`: that rep's only)."""
        if len(words) > MAX_NAME_WORDS:
            return []  # one LIKE per word: a flood of words would overflow SQLite's expression tree
        with self._engine.connect() as conn:
            return _known_prospects(conn, workspace_id, rep_id, words=words, limit=limit)

    @offloaded("read")
    def prospect_names(self, workspace_id: str, rep_id: str | None = None) -> list[str]:
        """Every known name in a workspace (with `rep_id`: that rep's), nothing else (for
        "did you mean")."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(prospects.c.name).where(
                    prospects.c.workspace_id == workspace_id, *_logged_by(workspace_id, rep_id)
                )
            )
            return [row[0] for row in rows]

    @offloaded("read")
    def prospect(
        self, workspace_id: str, slug: str, rep_id: str | None = None
    ) -> KnownProspect | None:
        """The prospect (with `rep_id`: only if that rep has logged a call with it)."""
        with self._engine.connect() as conn:
            found = _known_prospects(conn, workspace_id, rep_id, slug=slug)
        return found[0] if found else None

    # -- re-filing text-only notes once memory reasons -------------------------------------

    @offloaded("read")
    def workspaces(self) -> list[str]:
        with self._engine.connect() as conn:
            return [row[0] for row in conn.execute(select(calls.c.workspace_id).distinct())]

    @offloaded("read")
    def refiled_documents(self, workspace_id: str) -> set[str]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(refiled.c.document_id).where(refiled.c.workspace_id == workspace_id)
            )
            return {row[0] for row in rows}

    @offloaded("write")
    @retry_on_conflict
    def record_refiled(self, workspace_id: str, document_id: str, operation_id: str | None) -> None:
        with self._engine.begin() as conn:
            done = conn.execute(
                select(refiled.c.document_id).where(
                    refiled.c.workspace_id == workspace_id, refiled.c.document_id == document_id
                )
            ).first()
            if done is None:
                conn.execute(
                    refiled.insert().values(
                        workspace_id=workspace_id,
                        document_id=document_id,
                        operation_id=operation_id,
                        refiled_at=datetime.now(UTC),
                    )
                )


def _insert_call(conn: Connection, call: CallLog, confirmed: int) -> None:
    conn.execute(
        calls.insert().values(
            call_id=call.call_id,
            workspace_id=call.workspace_id,
            slug=call.slug,
            rep_id=call.rep_id,
            call_date=call.call_date,
            outcome=call.outcome,
            confirmed=confirmed,
        )
    )


def _known_prospects(
    conn: Connection,
    workspace_id: str,
    rep_id: str | None,
    slug: str | None = None,
    limit: int | None = None,
    words: list[str] | None = None,
) -> list[KnownProspect]:
    """Prospects with their last contact and call count, most recent first: all of a
    workspace's, or a rep's, or those whose slug is `slug` or holds every one of `words` as a
    whole word (slug words are joined by "-")."""

    def narrowed(query: Any, column: Any) -> Any:
        if slug is not None:
            query = query.where(column == slug)
        for word in words or ():
            query = query.where(
                or_(
                    column == word,
                    column.startswith(f"{word}-", autoescape=True),
                    column.endswith(f"-{word}", autoescape=True),
                    column.contains(f"-{word}-", autoescape=True),
                )
            )
        return query

    mine = [calls.c.workspace_id == workspace_id, calls.c.slug == prospects.c.slug]
    if rep_id is not None:
        mine.append(calls.c.rep_id == rep_id)
    # Per prospect, through the calls_by_prospect index: only the prospects kept are counted.
    last_contact = select(func.max(calls.c.call_date)).where(*mine).scalar_subquery()
    interactions = select(func.count()).select_from(calls).where(*mine).scalar_subquery()
    query = narrowed(
        select(
            prospects.c.slug,
            prospects.c.name,
            prospects.c.company,
            last_contact.label("last_contact"),
            interactions.label("interactions"),
        ).where(prospects.c.workspace_id == workspace_id),
        prospects.c.slug,
    ).order_by(last_contact.desc().nulls_last(), prospects.c.name.desc())
    if rep_id is not None:
        query = query.where(exists().where(*mine))
    if limit is not None:
        query = query.limit(limit)
    return [
        KnownProspect(
            slug=row.slug,
            name=row.name,
            company=row.company,
            last_contact=row.last_contact,
            interactions=row.interactions or 0,
        )
        for row in conn.execute(query).all()
    ]


def _logged_by(workspace_id: str, rep_id: str | None) -> list[Any]:
    """The condition that the rep has logged a call with the prospect (none without a rep)."""
    if rep_id is None:
        return []
    return [
        exists().where(
            calls.c.workspace_id == workspace_id,
            calls.c.slug == prospects.c.slug,
            calls.c.rep_id == rep_id,
        )
    ]


__all__ = [
    "TOLD_STORED",
    "TOLD_WAITING",
    "UNCONFIRMED",
    "BriefView",
    "CallCounts",
    "CallErased",
    "Claimed",
    "DealHealth",
    "DigestSetting",
    "Erasure",
    "KeptDraft",
    "KnownProspect",
    "LocalIndex",
    "LoggedCall",
    "PostedMessage",
    "TaskUsage",
    "WaitingCall",
]


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
