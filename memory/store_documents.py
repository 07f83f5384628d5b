"""A workspace's documents in memory: the calls listed (metadata only) and read, a rep's notes
and labelled notes from the memory units, the prospects summarised, and documents forgotten with
what the server still keeps of them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from datetime import date
from functools import partial
from typing import Any

from hindsight_client_api.models.document_list_item import DocumentListItem
from hindsight_client_api.models.list_documents_response import ListDocumentsResponse
from hindsight_client_api.models.list_memory_units_response import ListMemoryUnitsResponse

from memory.bank_setup import FILED, FILED_AS_FACTS
from memory.records import (
    CALL_LOG_TYPE,
    TRANSCRIPT_TYPE,
    ListedCall,
    ProspectSummary,
    TimelineEntry,
    newest_first,
    prospect_tag,
    rep_tag,
    type_tag,
)
from memory.rep_notes import RepNote, notes_from_units
from memory.server_residue import PurgeFailed, purge_residue
from memory.store_base import FETCH_CONCURRENCY, GONE, MemoryBase, parse_date
from memory.store_errors import MemoryUnavailable

# The store's own logger: operators filter on "memory.store" for everything memory says.
logger = logging.getLogger("memory.store")

_PAGE = 100
_NO_DOCUMENTS = ListDocumentsResponse(items=[], total=0, limit=_PAGE, offset=0)
# Memory units per listing page: a unit is ~1 KB of JSON, so a page stays well under 1 MB.
_UNIT_PAGE = 500
_NO_UNITS = ListMemoryUnitsResponse(items=[], total=0, limit=_UNIT_PAGE, offset=0)
# A purge is a few DELETEs in one transaction; memory down must not hold an erasure longer.
_PURGE_SECONDS = 20.0


class DocumentsMemory(MemoryBase):
    """Listing, reading and forgetting the documents of a workspace's bank."""

    async def timeline(
        self, workspace_id: str, slug: str, rep_id: str | None = None
    ) -> list[TimelineEntry]:
        """Every logged call for a prospect (with `rep_id`: that rep's only), newest first, with
        the rep's note (one document read per call: a page of the timeline uses
        `listed_calls` and `with_notes` instead)."""
        listed = await self.listed_calls(workspace_id, slug, rep_id)
        return await self.with_notes(workspace_id, listed)

    async def listed_calls(
        self, workspace_id: str, slug: str, rep_id: str | None = None
    ) -> list[ListedCall]:
        """Every logged call for a prospect (with `rep_id`: that rep's only), newest first,
        from the document listing alone: no note is read (a listing carries metadata and text
        length, never text)."""
        mine = [rep_tag(rep_id)] if rep_id is not None else []
        documents = await self._list_documents(
            self.bank_id(workspace_id), [prospect_tag(slug), type_tag(CALL_LOG_TYPE), *mine]
        )
        return newest_first(_listed_call(doc) for doc in documents)

    async def with_notes(
        self, workspace_id: str, calls: Sequence[ListedCall]
    ) -> list[TimelineEntry]:
        """These calls with their notes, in the same order: one document read per call, a few
        at a time. A call forgotten since it was listed is left out."""
        bank = self.bank_id(workspace_id)
        semaphore = asyncio.Semaphore(FETCH_CONCURRENCY)

        async def read(call: ListedCall) -> TimelineEntry | None:
            async with semaphore:
                full = await self._call(
                    "get document",
                    partial(self._client.documents.get_document, bank, call.call_id),
                    missing=GONE,  # forgotten between list and get
                )
            if full is GONE:
                return None
            return call.with_note(full.original_text or "")

        entries = await asyncio.gather(*(read(call) for call in calls))
        return [e for e in entries if e is not None]

    async def rep_notes(self, workspace_id: str, rep_id: str) -> list[RepNote]:
        """Every call note a rep logged, newest first, grouped into calls, from one paged
        listing of the memory units tagged with the rep: no query embedding, no document read
        per call, so the cost follows the size of the pipeline, not the number of prospects.

        Transcripts are left out. With an LLM a note's text is the facts memory extracted from
        it (a note it found nothing in is not listed).
        """
        units = await self._listed_units(
            workspace_id, [rep_tag(rep_id), type_tag(CALL_LOG_TYPE)], f"{rep_id}'s notes"
        )
        return notes_from_units(units)

    async def labelled_notes(self, workspace_id: str, label: str, since: date) -> list[RepNote]:
        """The workspace's call notes from `since` on in which memory found something it
        labelled `label` (`objection:pricing`), newest first; each holds only those facts.
        Empty in chunks mode, where nothing is labelled."""
        units = await self._listed_units(
            workspace_id,
            [type_tag(CALL_LOG_TYPE), label],
            f"notes labelled {label}",
            since,
        )
        return notes_from_units(units)

    async def _listed_units(
        self, workspace_id: str, tags: list[str], what: str, since: date | None = None
    ) -> list[Any]:
        """Every memory unit carrying all of `tags` (mentioned from `since` on, when given:
        memory dates a note's units by the call's date), read in pages side by side."""
        bank = self.bank_id(workspace_id)
        window = {"time_field": "mentioned_at", "start_date": since.isoformat()} if since else {}

        async def page(offset: int) -> ListMemoryUnitsResponse:
            return await self._call(
                "list memories",
                partial(
                    self._client.alist_memories,
                    bank,
                    tags=tags,
                    tags_match="all_strict",
                    limit=_UNIT_PAGE,
                    offset=offset,
                    **window,  # type: ignore[arg-type]
                ),
                missing=_NO_UNITS,
            )

        semaphore = asyncio.Semaphore(FETCH_CONCURRENCY)

        async def later(offset: int) -> ListMemoryUnitsResponse:
            async with semaphore:
                return await page(offset)

        for _ in range(2):
            first = await page(0)
            rest = await asyncio.gather(
                *(later(offset) for offset in range(_UNIT_PAGE, first.total, _UNIT_PAGE))
            )
            pages = [first, *rest]
            units = {unit.id: unit for p in pages for unit in p.items}
            # Pages read side by side see one bank only if nothing was filed or forgotten
            # meanwhile (offsets would shift): otherwise list once more.
            if len({p.total for p in pages}) == 1 and len(units) == first.total:
                break
            logger.info("Memory changed while listing %s; listing again", what)
        return list(units.values())

    async def filed_as_text(self, workspace_id: str) -> list[str]:
        """Ids of the workspace's notes and transcripts stored as text only (in chunks mode,
        or before that was recorded): what an LLM has not read yet."""
        documents = await self._list_documents(self.bank_id(workspace_id), [])
        return [
            doc.id
            for doc in documents
            if (doc.document_metadata or {}).get("type") in (CALL_LOG_TYPE, TRANSCRIPT_TYPE)
            and (doc.document_metadata or {}).get(FILED) != FILED_AS_FACTS
        ]

    async def rep_prospects(self, workspace_id: str, rep_id: str) -> list[ProspectSummary]:
        """The prospects a rep has logged calls for, most recently contacted first."""
        return await self._summaries(workspace_id, [rep_tag(rep_id)])

    async def workspace_prospects(self, workspace_id: str) -> list[ProspectSummary]:
        """Every prospect with a logged call in this workspace, most recently contacted first."""
        return await self._summaries(workspace_id, [])

    async def forget_prospect(self, workspace_id: str, slug: str) -> int:
        """Delete every document tagged with a prospect; returns how many. Only for erasures
        asked by an older version, which took the prospect's tag (bot.forget.erase)."""
        bank = self.bank_id(workspace_id)
        listed = [doc.id for doc in await self._list_documents(bank, [prospect_tag(slug)])]
        deleted = await self._delete_documents(bank, listed)
        await self.purge_erased(workspace_id, listed)
        return deleted

    async def forget_calls(self, workspace_id: str, call_ids: Iterable[str]) -> int:
        """Delete these calls' documents (note and transcript), and with them every fact,
        observation and mental model memory drew from them, and what the server still keeps
        of them (purge_erased); returns how many were there."""
        documents = [d for call_id in call_ids for d in (call_id, f"{call_id}-transcript")]
        deleted = await self._delete_documents(self.bank_id(workspace_id), documents)
        await self.purge_erased(workspace_id, documents)
        return deleted

    async def forget_operations(self, workspace_id: str, operation_ids: Iterable[str]) -> None:
        """Delete memory's records of these finished operations (each holds a note as sent;
        a server other than the embedded one would keep them until its retention ends)."""
        bank = self.bank_id(workspace_id)
        for operation_id in operation_ids:
            status = await self._call(
                "operation status",
                partial(self._client.operations.get_operation_status, bank, operation_id),
                missing=GONE,
            )
            if status is GONE:
                continue
            # A batch keeps each sub-batch (and its payload) as an operation of its own.
            children = [c.operation_id for c in status.child_operations or []]
            for one in [*children, operation_id]:
                await self._call(
                    "delete operation",
                    partial(self._client.operations.delete_operation, bank, one),
                    missing=GONE,
                )

    async def forget_call(self, workspace_id: str, call_id: str) -> int:
        """Delete one call's documents (its note and transcript); returns how many were there."""
        return await self.forget_calls(workspace_id, [call_id])

    async def _delete_documents(self, bank: str, document_ids: list[str]) -> int:
        """Delete these documents (and what memory drew from them); one already gone is not
        counted."""
        deleted = 0
        for document_id in document_ids:
            answer = await self._call(
                "delete document",
                partial(self._client.documents.delete_document, bank, document_id),
                missing=GONE,
            )
            deleted += answer is not GONE
        return deleted

    async def _summaries(self, workspace_id: str, tags: list[str]) -> list[ProspectSummary]:
        documents = await self._list_documents(
            self.bank_id(workspace_id), [*tags, type_tag(CALL_LOG_TYPE)]
        )
        calls_by_slug: dict[str, list[dict[str, Any]]] = {}
        for doc in documents:
            meta = doc.document_metadata or {}
            if meta.get("prospect_slug"):
                calls_by_slug.setdefault(str(meta["prospect_slug"]), []).append(meta)
        summaries = []
        for slug, metas in calls_by_slug.items():
            latest = max(metas, key=lambda m: (str(m.get("date")), str(m.get("logged_at"))))
            summaries.append(
                ProspectSummary(
                    slug=slug,
                    name=str(latest.get("prospect", slug)),
                    company=str(latest.get("company", "")),
                    last_contact=parse_date(latest.get("date")) or date.min,
                    interactions=len(metas),
                    last_outcome=str(latest.get("outcome", "")),
                )
            )
        return sorted(summaries, key=lambda s: (s.last_contact, s.name), reverse=True)

    async def _list_documents(self, bank: str, tags: list[str]) -> list[Any]:
        documents: list[Any] = []
        offset = 0
        while True:
            page = await self._call(
                "list documents",
                partial(
                    self._client.documents.list_documents,
                    bank,
                    tags=tags,
                    tags_match="all_strict",
                    limit=_PAGE,
                    offset=offset,
                ),
                missing=_NO_DOCUMENTS,
            )
            documents.extend(page.items)
            offset += len(page.items)
            if not page.items or offset >= page.total:
                return documents

    async def purge_erased(self, workspace_id: str, document_ids: list[str]) -> None:
        """Remove what the server still keeps of these deleted documents: operation records
        (note text), entities no remaining memory mentions, LLM traces (memory/server_residue).

        Only for the embedded server, whose database the bot owns; an external server keeps
        them within its own retention settings (compose.yaml sets them)."""
        url = self._database_url() if self._database_url is not None else None
        if url is None:
            return
        try:
            await purge_residue(url, self.bank_id(workspace_id), document_ids, _PURGE_SECONDS)
        except PurgeFailed as exc:
            raise MemoryUnavailable(f"Memory's database during purge: {exc}") from exc


def _listed_call(doc: DocumentListItem) -> ListedCall:
    meta = doc.document_metadata or {}
    return ListedCall(
        call_id=doc.id,
        prospect=str(meta.get("prospect", "")),
        call_date=parse_date(meta.get("date")) or date.min,
        outcome=str(meta.get("outcome", "")),
        rep_id=str(meta.get("rep", "")),
        has_transcript=meta.get("has_transcript") == "yes",
        logged_at=str(meta.get("logged_at", doc.created_at)),
        length=doc.text_length or 0,
        metadata=dict(meta),
    )
