"""The rows an erasure reads and writes inside its transaction (memory/index_forgets.py runs
them): the calls it takes, the filings and operation records memory keeps of them, the
erasure's own record, and what was made here from the erased calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Column, ColumnElement, Connection, Row, Table, delete, func, select

from memory.index_base import aware
from memory.index_tables import (
    brief_views,
    calls,
    deal_health,
    drafts,
    erased_calls,
    erased_operations,
    erasures,
    filed_operations,
    outbox,
    prospects,
    snoozes,
)
from memory.prospects import prospect_slug

# Every rep's calls on the prospect, or only the asking rep's own.
Scope = Literal["prospect", "mine"]


@dataclass(frozen=True)
class Erasure:
    """A confirmed erasure: who asked, when, what it takes, and how far it has got."""

    request_id: str
    workspace_id: str
    requested_by: str
    requested_at: datetime
    scope: str
    receipt_name: str | None
    notes: int
    waiting: int
    call_ids: tuple[str, ...] = ()
    legacy_slug: str | None = None  # a request of an older version: erase by the tag
    documents: int | None = None


def taken_calls(conn: Connection, about: list[ColumnElement[bool]]) -> list[str]:
    """The ids of the calls an erasure takes."""
    # Locked on PostgreSQL: a concurrent erasure of the same calls waits here, then
    # finds them gone (READ COMMITTED), so no call is recorded twice.
    return [row[0] for row in conn.execute(select(calls.c.call_id).where(*about).with_for_update())]


def filings_under_way(conn: Connection, workspace_id: str, slug: str) -> dict[str, str]:
    """The prospect's notes memory is filing now (with an LLM), by call id: their documents
    appear when the filing ends, so the erasure waits for it (see ErasureIndex.filings)."""
    return {
        row.call_id: row.operation_id
        for row in conn.execute(
            select(outbox.c.call_id, outbox.c.operation_id).where(
                outbox.c.slug == slug,
                outbox.c.workspace_id == workspace_id,
                outbox.c.operation_id.is_not(None),
            )
        )
    }


def operations_of(conn: Connection, taken: list[str]) -> set[str]:
    """Memory's operation records of these delivered calls (each holds a note as sent)."""
    return {
        row.operation_id
        for chunk in chunks(taken)
        for row in conn.execute(
            select(filed_operations.c.operation_id).where(filed_operations.c.call_id.in_(chunk))
        )
    }


def record_erasure(
    conn: Connection, request: Erasure, filing: dict[str, str], operations: set[str]
) -> None:
    """The erasure's record: its counts, the calls it took (with the filing under way of
    each) and the operation records memory keeps of them."""
    conn.execute(
        erasures.insert().values(
            request_id=request.request_id,
            workspace_id=request.workspace_id,
            requested_by=request.requested_by,
            requested_at=request.requested_at,
            scope=request.scope,
            receipt_name=request.receipt_name,
            notes=request.notes,
            waiting=request.waiting,
        )
    )
    taken = request.call_ids
    if taken:
        conn.execute(
            erased_calls.insert(),
            [
                {"call_id": c, "request_id": request.request_id, "operation_id": filing.get(c)}
                for c in taken
            ],
        )
    # The filings under way (in `filing`) are also records memory keeps.
    operations = operations | {filing[c] for c in taken if c in filing}
    if operations:
        conn.execute(
            erased_operations.insert(),
            [{"request_id": request.request_id, "operation_id": o} for o in sorted(operations)],
        )


def chunks(values: list[str]) -> list[list[str]]:
    """`values` in pieces small enough for one `IN (...)` (older SQLite binds ≤ 999)."""
    return [values[start : start + 500] for start in range(0, len(values), 500)]


def delete_in(conn: Connection, table: Table, column: Column[Any], values: list[str]) -> int:
    """Delete the rows whose `column` is one of `values`, in chunks."""
    return sum(
        conn.execute(delete(table).where(column.in_(chunk))).rowcount for chunk in chunks(values)
    )


def tidy_prospect(
    conn: Connection, workspace_id: str, slug: str, rep_id: str, scope: Scope
) -> None:
    """What was made here from the erased calls: the rep's own extras, every draft of the
    prospect, and the whole prospect once none of its calls is left."""
    left = conn.execute(
        select(func.count())
        .select_from(calls)
        .where(calls.c.workspace_id == workspace_id, calls.c.slug == slug)
    ).scalar()
    everyone = scope == "prospect" or not left
    for table in (snoozes, brief_views):
        where = [table.c.workspace_id == workspace_id, table.c.slug == slug]
        if not everyone:
            where.append(table.c.rep_id == rep_id)
        conn.execute(delete(table).where(*where))
    # Health was judged from the erased notes too; the next brief judges it again.
    conn.execute(
        delete(deal_health).where(
            deal_health.c.workspace_id == workspace_id, deal_health.c.slug == slug
        )
    )
    # A teammate's draft was written from every note of the prospect, the erased ones too:
    # all go (a draft is made again on demand).
    shown = conn.execute(
        select(drafts.c.draft_id, drafts.c.prospect).where(drafts.c.workspace_id == workspace_id)
    ).all()
    gone = [row.draft_id for row in shown if prospect_slug(row.prospect) == slug]
    delete_in(conn, drafts, drafts.c.draft_id, gone)
    about = [prospects.c.workspace_id == workspace_id, prospects.c.slug == slug]
    if not left:
        conn.execute(delete(prospects).where(*about))
        return
    latest = conn.execute(
        select(func.max(calls.c.call_date)).where(
            calls.c.workspace_id == workspace_id, calls.c.slug == slug
        )
    ).scalar()
    conn.execute(prospects.update().where(*about).values(last_contact=latest))


def erasure_from_row(conn: Connection, row: Row[Any]) -> Erasure:
    taken = conn.execute(
        select(erased_calls.c.call_id).where(erased_calls.c.request_id == row.request_id)
    ).all()
    return Erasure(
        row.request_id,
        row.workspace_id,
        row.requested_by,
        aware(row.requested_at),
        row.scope,
        row.receipt_name,
        row.notes,
        row.waiting,
        tuple(r[0] for r in taken),
        row.legacy_slug,
        row.documents,
    )
