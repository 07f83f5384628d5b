"""The local index: metadata, digest settings, and calls waiting to reach Hindsight.

It holds no note text except calls not yet delivered to Hindsight (the write-ahead outbox),
and can be rebuilt from Hindsight. SQLite on one machine (the default); PostgreSQL when
several replicas share it (memory/database.py holds what differs between the two).

Every public method is a coroutine that runs its query on a small pool of its own threads:
a locked or slow database delays only the request that needs it, never the event loop.
This module holds the calls as they are saved (the write-ahead) and re-filed; their delivery
from the outbox is in memory/index_outbox.py, the prospects in memory/index_prospects.py,
erasure in memory/index_forgets.py, the digest's settings and runs in
memory/index_digests.py, the per-rep extras (briefs seen, health, snoozes, alerts, drafts,
the model's usage, the team view) in memory/index_pipeline.py, and the Slack requests
already handled in memory/index_requests.py.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from memory.database import with_lock_wait
from memory.index_base import offloaded, retry_on_conflict
from memory.index_digests import DigestIndex, DigestSetting
from memory.index_forgets import CallCounts, Erasure, ErasureIndex, PostedMessage
from memory.index_outbox import Claimed, OutboxIndex, WaitingCall
from memory.index_pipeline import (
    BriefView,
    DealHealth,
    KeptDraft,
    LoggedCall,
    PipelineIndex,
)
from memory.index_prospects import KnownProspect, ProspectIndex
from memory.index_requests import RequestIndex
from memory.index_tables import (
    TOLD_STORED,
    TOLD_WAITING,
    UNCONFIRMED,
    calls,
    erased_calls,
    outbox,
    prospects,
    refiled,
)
from memory.index_usage import TaskUsage, UsageIndex
from memory.records import CallLog


class CallErased(Exception):
    """A call was submitted again (a retried form, a replayed request) under the id of a call
    an erasure took: it is not kept, so the erased call stays erased."""

    def __init__(self, call_id: str) -> None:
        super().__init__(f"call {call_id} was erased and is not saved again")
        self.call_id = call_id


class LocalIndex(
    OutboxIndex,
    ProspectIndex,
    PipelineIndex,
    DigestIndex,
    ErasureIndex,
    RequestIndex,
    UsageIndex,
):
    """The whole local index (see the module's docstring for where each part lives)."""

    def quick_claims(self, wait: float) -> RequestIndex:
        """Claims on Slack requests that give up on a locked database within `wait` seconds
        (SQLite's busy wait, PostgreSQL's lock_timeout), on the same connections and threads
        of their own: a claim stands before a request's ack, which Slack waits 3 s for, and
        one waiting for a lock never delays a call's save. Closing this index closes it."""
        return RequestIndex(with_lock_wait(self._engine, wait), upgrade=False)

    # -- calls saved to the write-ahead outbox --------------------------------------------

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
