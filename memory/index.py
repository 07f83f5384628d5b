"""The local index: metadata, digest settings, and calls waiting to reach Hindsight.

It holds no note text except calls not yet delivered to Hindsight (the write-ahead outbox),
and can be rebuilt from Hindsight. SQLite on one machine (the default); PostgreSQL when
several replicas share it (memory/database.py holds what differs between the two).

Every public method is a coroutine that runs its query on a small pool of its own threads:
a locked or slow database delays only the request that needs it, never the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Concatenate, Literal, NamedTuple, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine, and_, delete, exists, func, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from memory.database import BUSY_TIMEOUT_SECONDS, create_database_engine, is_conflict
from memory.index_tables import (
    TOLD_STORED,
    TOLD_WAITING,
    UNCONFIRMED,
    alert_runs,
    alerts_off,
    brief_views,
    calls,
    create_and_upgrade,
    deal_health,
    digest_runs,
    digest_settings,
    drafts,
    forgets,
    llm_usage,
    outbox,
    prospects,
    refiled,
    snoozes,
)
from memory.prospects import prospect_slug
from memory.records import CallLog, LlmUsage

P = ParamSpec("P")
T = TypeVar("T")


class LoggedCall(NamedTuple):
    """One logged call's metadata (no note text)."""

    call_id: str
    rep_id: str
    slug: str
    call_date: date
    outcome: str


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


@dataclass(frozen=True)
class BriefView:
    """What the rep's last brief on a prospect showed: its calls and memory's labels."""

    workspace_id: str
    rep_id: str
    slug: str
    seen_at: datetime
    call_ids: tuple[str, ...]
    labels: tuple[str, ...]


@dataclass(frozen=True)
class ForgetRequest:
    """A prospect being forgotten: who asked, when, and what has been deleted so far."""

    workspace_id: str
    slug: str
    name: str
    requested_by: str
    requested_at: datetime
    notes: int
    waiting: int
    documents: int | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True)
class DealHealth:
    """A prospect's health as its latest model-made brief judged it."""

    slug: str
    score: int
    label: str
    momentum: str
    briefed_on: date
    open_commitments: int = 0
    next_due: date | None = None


@dataclass(frozen=True)
class KeptDraft:
    """A follow-up draft as it was shown to the rep."""

    draft_id: str
    workspace_id: str
    rep_id: str
    prospect: str
    recipient: str
    subject: str
    body: str
    created_at: datetime


# How long a shown draft can still be logged as sent.
DRAFTS_KEPT = timedelta(days=14)


@dataclass(frozen=True)
class TaskUsage:
    """What one task of the model cost over a period: questions, escalations, failures."""

    task: str
    asked: int
    escalated: int
    failed: int
    tokens: int
    mean_latency_ms: int

    @property
    def escalated_share(self) -> float:
        return self.escalated / self.asked if self.asked else 0.0


# How long the model's usage rows are kept (the stats show a week).
LLM_USAGE_KEPT = timedelta(days=90)


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


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes for what was stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _retry_on_conflict(method: Callable[P, T]) -> Callable[P, T]:
    """Run a read-then-write transaction once more when a concurrent writer inserted the same
    row first (another thread, worker or replica; on PostgreSQL also a deadlock or
    serialization failure between replicas): the second run sees that row."""

    @functools.wraps(method)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except DBAPIError as error:
            if not is_conflict(error):
                raise
            return method(*args, **kwargs)

    return run


Pool = Literal["read", "write", "save"]
# Threads per pool. Saves (the write-ahead before an ack) never queue behind the delivery
# worker's writes, and reads (typeahead, /timeline, readiness), which WAL lets through while
# another process writes, never queue behind writes waiting for a lock.
_POOL_THREADS: dict[Pool, int] = {"read": 4, "write": 2, "save": 2}


def _offloaded(
    pool: Pool,
) -> Callable[
    [Callable[Concatenate[LocalIndex, P], T]],
    Callable[Concatenate[LocalIndex, P], Coroutine[Any, Any, T]],
]:
    """Run a blocking index method on one of the index's thread pools; callers await it."""

    def decorate(
        method: Callable[Concatenate[LocalIndex, P], T],
    ) -> Callable[Concatenate[LocalIndex, P], Coroutine[Any, Any, T]]:
        @functools.wraps(method)
        async def run(self: LocalIndex, *args: P.args, **kwargs: P.kwargs) -> T:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._pools[pool], functools.partial(method, self, *args, **kwargs)
            )

        return run

    return decorate


class LocalIndex:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._pools = {
            name: ThreadPoolExecutor(threads, thread_name_prefix=f"local-index-{name}")
            for name, threads in _POOL_THREADS.items()
        }
        create_and_upgrade(engine)

    @classmethod
    def open(cls, url: str, busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> LocalIndex:
        """The index at `url` (sqlite:///… or postgresql://…), its schema created or upgraded."""
        return cls(create_database_engine(url, busy_timeout))

    def close(self) -> None:
        # Never wait on a query stuck behind a lock: shutdown stays bounded.
        for executor in self._pools.values():
            executor.shutdown(wait=False, cancel_futures=True)
        self._engine.dispose()

    # -- calls and the write-ahead outbox -------------------------------------------------

    @_offloaded("save")
    @_retry_on_conflict
    def write_ahead(
        self, call: CallLog, now: datetime | None = None, deadline: float | None = None
    ) -> bool:
        """Keep a submitted call, note and all, until Hindsight has it; one transaction.

        With `deadline` (a `time.monotonic()` instant) the write either commits before it or
        raises: a save the rep is told failed never lands later. False when this call was
        submitted before with the same content; a waiting call submitted again with other
        content (the rep fixed something) is replaced.
        """
        with self._engine.begin() as conn:
            self._bound_waits(conn, deadline)
            waiting = conn.execute(
                select(outbox.c.payload).where(outbox.c.call_id == call.call_id)
            ).scalar()
            if self._call_exists(conn, call.call_id):
                if waiting is None or waiting == call.to_json():
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

    @_offloaded("write")
    @_retry_on_conflict
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

    @_offloaded("write")
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

    @_offloaded("write")
    def mark_delivered(self, call_id: str) -> int | None:
        """Drop the delivered call's text; returns what the rep had been told (None: gone)."""
        with self._engine.begin() as conn:
            conn.execute(delete(outbox).where(outbox.c.call_id == call_id))
            told = conn.execute(
                select(calls.c.confirmed).where(calls.c.call_id == call_id)
            ).scalar()
            return None if told is None else int(told)

    @_offloaded("write")
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

    @_offloaded("write")
    def accept(self, call_id: str, operation_id: str, poll_at: datetime, lease: datetime) -> None:
        """Memory took the call into `operation_id`: look at it again at `poll_at`. The text
        stays until the operation is done (briefs and the timeline still need it)."""
        with self._engine.begin() as conn:
            conn.execute(
                outbox.update()
                .where(outbox.c.call_id == call_id, outbox.c.lease_until == lease)
                .values(operation_id=operation_id, next_attempt_at=poll_at, lease_until=None)
            )

    @_offloaded("write")
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

    @_offloaded("read")
    def waiting(self, workspace_id: str | None = None, slug: str | None = None) -> list[CallLog]:
        """Calls not yet in Hindsight, oldest first (optionally one workspace or prospect)."""
        query = select(outbox.c.payload).order_by(outbox.c.kept_at)
        if workspace_id is not None:
            query = query.where(outbox.c.workspace_id == workspace_id)
        if slug is not None:
            query = query.where(outbox.c.slug == slug)
        with self._engine.connect() as conn:
            return [CallLog.from_json(row.payload) for row in conn.execute(query)]

    @_offloaded("read")
    def waiting_details(self) -> list[WaitingCall]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(outbox.c.payload, outbox.c.attempts, outbox.c.last_error).order_by(
                    outbox.c.kept_at
                )
            ).all()
        return [WaitingCall(CallLog.from_json(r.payload), r.attempts, r.last_error) for r in rows]

    @_offloaded("read")
    def count_waiting(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(outbox)).scalar() or 0)

    # -- prospects ------------------------------------------------------------------------

    @_offloaded("read")
    def known_prospects(self, workspace_id: str, rep_id: str | None = None) -> list[KnownProspect]:
        """A workspace's prospects (or only those `rep_id` logged calls with), latest first."""
        with self._engine.connect() as conn:
            return _known_prospects(conn, workspace_id, rep_id)

    @_offloaded("read")
    def search_prospects(
        self, workspace_id: str, typed: str, limit: int = 20, rep_id: str | None = None
    ) -> list[str]:
        """Known names whose slug contains what was typed (typeahead), most recent first;
        filtered and cut in SQL, so it costs the same with 10 prospects or 10,000. With
        `rep_id`, only prospects that rep has logged a call with."""
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

    @_offloaded("read")
    def prospects_with_words(
        self, workspace_id: str, words: list[str], limit: int = 50, rep_id: str | None = None
    ) -> list[KnownProspect]:
        """Prospects whose name holds every one of `words` as a whole word ("okafor" finds
        james-okafor, "oka" does not), most recent first (with `rep_id`: that rep's only)."""
        with self._engine.connect() as conn:
            return _known_prospects(conn, workspace_id, rep_id, words=words, limit=limit)

    @_offloaded("read")
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

    @_offloaded("read")
    def prospect(
        self, workspace_id: str, slug: str, rep_id: str | None = None
    ) -> KnownProspect | None:
        """The prospect (with `rep_id`: only if that rep has logged a call with it)."""
        with self._engine.connect() as conn:
            found = _known_prospects(conn, workspace_id, rep_id, slug=slug)
        return found[0] if found else None

    @_offloaded("write")
    def forget_prospect(self, workspace_id: str, slug: str) -> None:
        with self._engine.begin() as conn:
            for table in (calls, outbox, brief_views):
                conn.execute(
                    delete(table).where(table.c.workspace_id == workspace_id, table.c.slug == slug)
                )
            conn.execute(
                delete(prospects).where(
                    prospects.c.workspace_id == workspace_id, prospects.c.slug == slug
                )
            )

    # -- re-filing text-only notes once memory reasons -------------------------------------

    @_offloaded("read")
    def workspaces(self) -> list[str]:
        with self._engine.connect() as conn:
            return [row[0] for row in conn.execute(select(calls.c.workspace_id).distinct())]

    @_offloaded("read")
    def refiled_documents(self, workspace_id: str) -> set[str]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(refiled.c.document_id).where(refiled.c.workspace_id == workspace_id)
            )
            return {row[0] for row in rows}

    @_offloaded("write")
    @_retry_on_conflict
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

    # -- briefs ---------------------------------------------------------------------------

    @_offloaded("read")
    def brief_view(self, workspace_id: str, rep_id: str, slug: str) -> BriefView | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(brief_views).where(
                    brief_views.c.workspace_id == workspace_id,
                    brief_views.c.rep_id == rep_id,
                    brief_views.c.slug == slug,
                )
            ).first()
        if row is None:
            return None
        seen_at = _aware(row.seen_at)
        return BriefView(
            workspace_id,
            rep_id,
            slug,
            seen_at,
            tuple(json.loads(row.call_ids)),
            tuple(json.loads(row.labels)),
        )

    @_offloaded("write")
    @_retry_on_conflict
    def save_brief_view(self, view: BriefView) -> None:
        where = and_(
            brief_views.c.workspace_id == view.workspace_id,
            brief_views.c.rep_id == view.rep_id,
            brief_views.c.slug == view.slug,
        )
        with self._engine.begin() as conn:
            conn.execute(delete(brief_views).where(where))
            conn.execute(
                brief_views.insert().values(
                    workspace_id=view.workspace_id,
                    rep_id=view.rep_id,
                    slug=view.slug,
                    seen_at=view.seen_at,
                    call_ids=json.dumps(list(view.call_ids)),
                    labels=json.dumps(list(view.labels)),
                )
            )

    # -- forgetting a prospect --------------------------------------------------------------

    @_offloaded("read")
    def has_logged(self, workspace_id: str, rep_id: str, slug: str) -> bool:
        """Whether the rep logged any call with the prospect."""
        with self._engine.connect() as conn:
            return (
                conn.execute(
                    select(calls.c.call_id).where(
                        calls.c.workspace_id == workspace_id,
                        calls.c.slug == slug,
                        calls.c.rep_id == rep_id,
                    )
                ).first()
                is not None
            )

    @_offloaded("write")
    def start_forget(
        self, workspace_id: str, slug: str, name: str, requested_by: str, now: datetime
    ) -> ForgetRequest:
        """Record the request and delete every local row about the prospect, in one
        transaction: index, notes still waiting for memory (they never reach it now), health,
        snoozes, brief views and drafts. Memory's part follows (`finish_forget`)."""
        about = [prospects.c.workspace_id == workspace_id, prospects.c.slug == slug]
        with self._engine.begin() as conn:
            notes = conn.execute(
                delete(calls).where(calls.c.workspace_id == workspace_id, calls.c.slug == slug)
            ).rowcount
            waiting = conn.execute(
                delete(outbox).where(outbox.c.workspace_id == workspace_id, outbox.c.slug == slug)
            ).rowcount
            conn.execute(delete(prospects).where(*about))
            for table in (deal_health, snoozes, brief_views):
                conn.execute(
                    delete(table).where(table.c.workspace_id == workspace_id, table.c.slug == slug)
                )
            shown = conn.execute(
                select(drafts.c.draft_id, drafts.c.prospect).where(
                    drafts.c.workspace_id == workspace_id
                )
            ).all()
            gone = [row.draft_id for row in shown if prospect_slug(row.prospect) == slug]
            if gone:
                conn.execute(delete(drafts).where(drafts.c.draft_id.in_(gone)))
            conn.execute(
                delete(forgets).where(
                    forgets.c.workspace_id == workspace_id, forgets.c.slug == slug
                )
            )
            request = ForgetRequest(workspace_id, slug, name, requested_by, now, notes, waiting)
            conn.execute(
                forgets.insert().values(
                    workspace_id=workspace_id,
                    slug=slug,
                    name=name,
                    requested_by=requested_by,
                    requested_at=now,
                    notes=notes,
                    waiting=waiting,
                )
            )
        return request

    @_offloaded("write")
    def finish_forget(self, request: ForgetRequest, documents: int, now: datetime) -> bool:
        """Mark the request done; True only the first time it is done (the receipt is due):
        False when another process finished it first, or for a forget run again."""
        key = [forgets.c.workspace_id == request.workspace_id, forgets.c.slug == request.slug]
        with self._engine.begin() as conn:
            before = conn.execute(select(forgets.c.documents).where(*key)).first()
            if before is not None and before.documents is not None:
                documents += before.documents
            moved = conn.execute(
                forgets.update()
                .where(
                    forgets.c.workspace_id == request.workspace_id,
                    forgets.c.slug == request.slug,
                    forgets.c.finished_at.is_(None),
                )
                .values(documents=documents, finished_at=now)
            ).rowcount
        return moved == 1 and before is not None and before.documents is None

    @_offloaded("write")
    def reopen_forget(self, workspace_id: str, slug: str) -> None:
        """Memory got a note about the prospect after it was forgotten: forget it again."""
        with self._engine.begin() as conn:
            conn.execute(
                forgets.update()
                .where(forgets.c.workspace_id == workspace_id, forgets.c.slug == slug)
                .values(finished_at=None)
            )

    @_offloaded("read")
    def unfinished_forgets(self) -> list[ForgetRequest]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(forgets).where(forgets.c.finished_at.is_(None))).all()
        return [
            ForgetRequest(
                r.workspace_id,
                r.slug,
                r.name,
                r.requested_by,
                _aware(r.requested_at),
                r.notes,
                r.waiting,
            )
            for r in rows
        ]

    @_offloaded("read")
    def forgotten_after(self, workspace_id: str, slug: str, logged_at: datetime) -> bool:
        """Whether the prospect was forgotten after a call about it was logged."""
        with self._engine.connect() as conn:
            requested = conn.execute(
                select(forgets.c.requested_at).where(
                    forgets.c.workspace_id == workspace_id, forgets.c.slug == slug
                )
            ).scalar()
        return requested is not None and _aware(requested) >= logged_at

    # -- quiet-deal alerts ------------------------------------------------------------------

    @_offloaded("read")
    def call_history(self, workspace_id: str, rep_id: str) -> dict[str, list[tuple[date, str]]]:
        """For each prospect the rep has logged: every call's date and outcome (anyone's),
        oldest first."""
        query = (
            select(calls.c.slug, calls.c.call_date, calls.c.outcome)
            .where(
                calls.c.workspace_id == workspace_id,
                calls.c.slug.in_(
                    select(calls.c.slug).where(
                        calls.c.workspace_id == workspace_id, calls.c.rep_id == rep_id
                    )
                ),
            )
            .order_by(calls.c.slug, calls.c.call_date)
        )
        history: dict[str, list[tuple[date, str]]] = {}
        with self._engine.connect() as conn:
            for row in conn.execute(query):
                history.setdefault(row.slug, []).append((row.call_date, row.outcome))
        return history

    @_offloaded("write")
    def claim_alert(self, workspace_id: str, rep_id: str, day: date) -> bool:
        """Claim the rep's alert for their local `day`; False when it was claimed already
        (by this process, a restart or another replica)."""
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    alert_runs.insert().values(workspace_id=workspace_id, rep_id=rep_id, day=day)
                )
                conn.execute(delete(alert_runs).where(alert_runs.c.day < day - timedelta(days=30)))
        except IntegrityError:  # the row is there: claimed already
            return False
        return True

    @_offloaded("write")
    def release_alert(self, workspace_id: str, rep_id: str, day: date) -> None:
        """Give back the rep's claim for `day` (the DM did not go out): the next run tries."""
        with self._engine.begin() as conn:
            conn.execute(
                delete(alert_runs).where(
                    alert_runs.c.workspace_id == workspace_id,
                    alert_runs.c.rep_id == rep_id,
                    alert_runs.c.day == day,
                )
            )

    @_offloaded("write")
    def set_alerts(self, workspace_id: str, rep_id: str, enabled: bool) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                delete(alerts_off).where(
                    alerts_off.c.workspace_id == workspace_id, alerts_off.c.rep_id == rep_id
                )
            )
            if not enabled:
                conn.execute(alerts_off.insert().values(workspace_id=workspace_id, rep_id=rep_id))

    @_offloaded("read")
    def alerts_enabled(self, workspace_id: str, rep_id: str) -> bool:
        with self._engine.connect() as conn:
            off = conn.execute(
                select(alerts_off.c.rep_id).where(
                    alerts_off.c.workspace_id == workspace_id, alerts_off.c.rep_id == rep_id
                )
            ).first()
        return off is None

    # -- snoozes ----------------------------------------------------------------------------

    @_offloaded("write")
    @_retry_on_conflict
    def snooze(self, workspace_id: str, rep_id: str, slug: str, until: date | None) -> None:
        """Snooze the rep's prospect until `until` (inclusive); None wakes it up."""
        with self._engine.begin() as conn:
            conn.execute(
                delete(snoozes).where(
                    snoozes.c.workspace_id == workspace_id,
                    snoozes.c.rep_id == rep_id,
                    snoozes.c.slug == slug,
                )
            )
            if until is not None:
                conn.execute(
                    snoozes.insert().values(
                        workspace_id=workspace_id, rep_id=rep_id, slug=slug, until=until
                    )
                )

    @_offloaded("read")
    def snoozed(self, workspace_id: str, rep_id: str, today: date) -> dict[str, date]:
        """The rep's prospects snoozed on `today`, with the last day of each snooze."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(snoozes.c.slug, snoozes.c.until).where(
                    snoozes.c.workspace_id == workspace_id,
                    snoozes.c.rep_id == rep_id,
                    snoozes.c.until >= today,
                )
            )
            return {row.slug: row.until for row in rows}

    # -- the team view ----------------------------------------------------------------------

    @_offloaded("read")
    def workspace_calls(self, workspace_id: str) -> list[LoggedCall]:
        """Every call logged in the workspace (who, which prospect, when, how it went), oldest
        first: metadata only, for the team view's aggregates."""
        query = (
            select(
                calls.c.call_id, calls.c.rep_id, calls.c.slug, calls.c.call_date, calls.c.outcome
            )
            .where(calls.c.workspace_id == workspace_id)
            .order_by(calls.c.call_date, calls.c.call_id)
        )
        with self._engine.connect() as conn:
            return [LoggedCall(*row) for row in conn.execute(query)]

    @_offloaded("read")
    def snoozes_by_rep(self, workspace_id: str, today: date) -> dict[str, dict[str, date]]:
        """Each rep's prospects snoozed on `today`, with the last day of each snooze."""
        query = select(snoozes.c.rep_id, snoozes.c.slug, snoozes.c.until).where(
            snoozes.c.workspace_id == workspace_id, snoozes.c.until >= today
        )
        found: dict[str, dict[str, date]] = {}
        with self._engine.connect() as conn:
            for row in conn.execute(query):
                found.setdefault(row.rep_id, {})[row.slug] = row.until
        return found

    # -- deal health (App Home) -------------------------------------------------------------

    @_offloaded("write")
    @_retry_on_conflict
    def record_health(self, workspace_id: str, health: DealHealth) -> None:
        """The prospect's latest brief's verdict, replacing the one before."""
        with self._engine.begin() as conn:
            conn.execute(
                delete(deal_health).where(
                    deal_health.c.workspace_id == workspace_id,
                    deal_health.c.slug == health.slug,
                )
            )
            conn.execute(
                deal_health.insert().values(
                    workspace_id=workspace_id,
                    slug=health.slug,
                    score=health.score,
                    label=health.label,
                    momentum=health.momentum,
                    briefed_on=health.briefed_on,
                    open_commitments=health.open_commitments,
                    next_due=health.next_due,
                )
            )

    @_offloaded("read")
    def health_of(self, workspace_id: str, slugs: list[str]) -> dict[str, DealHealth]:
        """The health of these prospects that have had a model-made brief."""
        found: dict[str, DealHealth] = {}
        with self._engine.connect() as conn:
            for start in range(0, len(slugs), 500):
                rows = conn.execute(
                    select(deal_health).where(
                        deal_health.c.workspace_id == workspace_id,
                        deal_health.c.slug.in_(slugs[start : start + 500]),
                    )
                )
                for row in rows:
                    found[row.slug] = DealHealth(
                        slug=row.slug,
                        score=row.score,
                        label=row.label,
                        momentum=row.momentum,
                        briefed_on=row.briefed_on,
                        open_commitments=row.open_commitments,
                        next_due=row.next_due,
                    )
        return found

    # -- follow-up drafts -------------------------------------------------------------------

    @_offloaded("write")
    def keep_draft(self, draft: KeptDraft) -> None:
        """Keep a shown draft for two weeks (older ones are dropped now)."""
        with self._engine.begin() as conn:
            _drop_old_drafts(conn, draft.created_at)
            conn.execute(
                drafts.insert().values(
                    draft_id=draft.draft_id,
                    workspace_id=draft.workspace_id,
                    rep_id=draft.rep_id,
                    prospect=draft.prospect,
                    recipient=draft.recipient,
                    subject=draft.subject,
                    body=draft.body,
                    created_at=draft.created_at,
                )
            )

    @_offloaded("write")
    @_retry_on_conflict
    def drop_old_drafts(self, now: datetime) -> int:
        """Drop the drafts kept longer than two weeks (their text goes with them)."""
        with self._engine.begin() as conn:
            return _drop_old_drafts(conn, now)

    @_offloaded("read")
    def kept_draft(
        self, workspace_id: str, rep_id: str, draft_id: str, now: datetime
    ) -> KeptDraft | None:
        """The rep's own draft, if it is younger than two weeks."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(drafts).where(
                    drafts.c.draft_id == draft_id,
                    drafts.c.workspace_id == workspace_id,
                    drafts.c.rep_id == rep_id,
                )
            ).first()
        if row is None:
            return None
        created = _aware(row.created_at)
        if created < now - DRAFTS_KEPT:
            return None
        return KeptDraft(
            draft_id=row.draft_id,
            workspace_id=row.workspace_id,
            rep_id=row.rep_id,
            prospect=row.prospect,
            recipient=row.recipient,
            subject=row.subject,
            body=row.body,
            created_at=created,
        )

    # -- the model's usage ------------------------------------------------------------------

    @_offloaded("write")
    def record_llm_usage(self, usage: LlmUsage) -> None:
        """Keep one question's cost (never its prompt or answer); drop rows past 90 days."""
        with self._engine.begin() as conn:
            conn.execute(
                llm_usage.insert().values(
                    workspace_id=usage.workspace_id,
                    task=usage.task,
                    model=usage.model,
                    ok=int(usage.ok),
                    escalated=int(usage.escalated),
                    reason=(usage.reason or "")[:400] or None,
                    requests=usage.requests,
                    latency_ms=usage.latency_ms,
                    prompt_tokens=usage.prompt_tokens,
                    completion_tokens=usage.completion_tokens,
                    at=usage.at,
                )
            )
            conn.execute(delete(llm_usage).where(llm_usage.c.at < usage.at - LLM_USAGE_KEPT))

    @_offloaded("read")
    def llm_usage_since(self, workspace_id: str, since: datetime) -> list[TaskUsage]:
        """Per task, what the model cost this workspace since `since`, most asked first."""
        asked = func.count()
        query = (
            select(
                llm_usage.c.task,
                asked.label("asked"),
                func.sum(llm_usage.c.escalated).label("escalated"),
                func.sum(1 - llm_usage.c.ok).label("failed"),
                func.sum(llm_usage.c.prompt_tokens + llm_usage.c.completion_tokens).label("tokens"),
                func.avg(llm_usage.c.latency_ms).label("latency"),
            )
            .where(llm_usage.c.workspace_id == workspace_id, llm_usage.c.at >= since)
            .group_by(llm_usage.c.task)
            .order_by(asked.desc(), llm_usage.c.task)
        )
        with self._engine.connect() as conn:
            return [
                TaskUsage(
                    task=row.task,
                    asked=int(row.asked),
                    escalated=int(row.escalated or 0),
                    failed=int(row.failed or 0),
                    tokens=int(row.tokens or 0),
                    mean_latency_ms=round(float(row.latency or 0)),
                )
                for row in conn.execute(query)
            ]

    # -- digest settings and runs ---------------------------------------------------------

    @_offloaded("read")
    def digest_setting(self, workspace_id: str, rep_id: str) -> DigestSetting | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(digest_settings).where(
                    digest_settings.c.workspace_id == workspace_id,
                    digest_settings.c.rep_id == rep_id,
                )
            ).first()
        return _setting(row) if row else None

    @_offloaded("read")
    def digest_settings(self) -> list[DigestSetting]:
        with self._engine.connect() as conn:
            return [_setting(row) for row in conn.execute(select(digest_settings))]

    @_offloaded("write")
    @_retry_on_conflict
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

    @_offloaded("write")
    @_retry_on_conflict
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

    @_offloaded("write")
    def remove_digest_setting(self, workspace_id: str, rep_id: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                delete(digest_settings).where(
                    digest_settings.c.workspace_id == workspace_id,
                    digest_settings.c.rep_id == rep_id,
                )
            )

    @_offloaded("write")
    @_retry_on_conflict
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

    @_offloaded("write")
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

    @_offloaded("read")
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

    @_offloaded("read")
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
        return None if sent is None else _aware(sent)

    @_offloaded("read")
    def ping(self) -> bool:
        """Whether the database answers (for readiness)."""
        with self._engine.connect() as conn:
            conn.execute(select(1))
        return True


def _drop_old_drafts(conn: Connection, now: datetime) -> int:
    return conn.execute(delete(drafts).where(drafts.c.created_at < now - DRAFTS_KEPT)).rowcount


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


def _setting(row: Any) -> DigestSetting:
    return DigestSetting(row.workspace_id, row.rep_id, row.tz, row.day, row.hour, bool(row.enabled))


__all__ = [
    "TOLD_STORED",
    "TOLD_WAITING",
    "UNCONFIRMED",
    "Claimed",
    "DigestSetting",
    "KnownProspect",
]
