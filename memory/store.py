"""Hindsight as the memory of every prospect: retain, recall, timeline, list, forget.

Async only: the sync client binds its session to the first thread's loop and fails when called
from Bolt's or APScheduler's workers.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any, TypeVar

import aiohttp
import pydantic
from hindsight_client import Hindsight
from hindsight_client_api.exceptions import ApiException
from hindsight_client_api.models.document_list_item import DocumentListItem
from hindsight_client_api.models.list_documents_response import ListDocumentsResponse
from hindsight_client_api.models.list_memory_units_response import ListMemoryUnitsResponse
from hindsight_client_api.models.recall_response import RecallResponse

from memory.records import (
    CALL_LOG_TYPE,
    TRANSCRIPT_TYPE,
    CallLog,
    ListedCall,
    ProspectSummary,
    RecalledMemory,
    TimelineEntry,
    newest_first,
    prospect_tag,
    rep_tag,
    type_tag,
)
from memory.rep_notes import RepNote, notes_from_units
from memory.server_residue import PurgeFailed, purge_residue

logger = logging.getLogger(__name__)

T = TypeVar("T")
_PAGE = 100
_FETCH_CONCURRENCY = 8
DEFAULT_RECALL_QUERY = (
    "{name}: objections, concerns, budget, pricing, competitors, decision makers and roles, "
    "risks, next steps, commitments and outcomes of sales calls"
)


_NO_RECALL = RecallResponse(results=[])
_NO_DOCUMENTS = ListDocumentsResponse(items=[], total=0, limit=_PAGE, offset=0)
# Memory units per listing page: a unit is ~1 KB of JSON, so a page stays well under 1 MB.
_UNIT_PAGE = 500
_NO_UNITS = ListMemoryUnitsResponse(items=[], total=0, limit=_UNIT_PAGE, offset=0)
_GONE: Any = object()
# A purge is a few DELETEs in one transaction; memory down must not hold an erasure longer.
_PURGE_SECONDS = 20.0


class MemoryUnavailable(Exception):
    """Hindsight could not be reached or failed; the caller keeps what the rep typed."""


class MemoryBusy(MemoryUnavailable):
    """Hindsight is at capacity (503 + Retry-After): backpressure, not an outage."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MemoryRejected(MemoryUnavailable):
    """Hindsight refused this request itself (a 4xx): retrying at once will not help."""


def _retry_after(exc: ApiException, default: float = 2.0) -> float:
    headers = exc.headers or {}
    raw = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return min(max(float(raw), 0.1), 60.0) if raw is not None else default
    except ValueError:
        return default


@asynccontextmanager
async def _memory_errors(action: str) -> AsyncIterator[None]:
    try:
        yield
    except ApiException as exc:
        message = f"Hindsight answered {exc.status} to {action}"
        # The answer's body may echo what was sent (a validation error quotes the note): it
        # goes to DEBUG only, and is not chained where a logged traceback would print it.
        logger.debug("%s: %s", message, exc)
        if (
            exc.status in (429, 503)
            and exc.headers
            and any(key.lower() == "retry-after" for key in exc.headers)
        ):
            raise MemoryBusy(message, _retry_after(exc)) from None
        if isinstance(exc.status, int) and 400 <= exc.status < 500 and exc.status not in (408, 429):
            raise MemoryRejected(message) from None
        raise MemoryUnavailable(message) from None
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise MemoryUnavailable(f"Hindsight unreachable during {action}: {exc!r}") from exc
    except (pydantic.ValidationError, json.JSONDecodeError) as exc:
        # Something answered, but not Hindsight (a proxy's error page, a half-started server).
        # A validation error quotes what it read (memories, perhaps): DEBUG only, unchained.
        logger.debug("Unreadable answer to %s: %s", action, exc)
        raise MemoryUnavailable(f"Hindsight gave an unreadable answer to {action}") from None


@dataclass(frozen=True)
class BankSetup:
    """How every workspace's bank is configured: what extraction should keep (the mission),
    the labels that become filterable fact tags, and how observations are scoped."""

    retain_mission: str
    entity_labels: list[dict[str, Any]]
    observation_scopes: list[list[str]] = field(default_factory=lambda: [[PROSPECT_SCOPE]])
    # The local embedding model reads 256 tokens (~1,000 characters) of a chunk: longer chunks
    # (a transcript) would be searchable by their first 1,000 characters only.
    chunk_size: int = 1000


FILED, FILED_AS_FACTS, FILED_AS_TEXT = "filed", "facts", "text"

# One set of observations per prospect: the scope glob matches each memory's own prospect tag.
PROSPECT_SCOPE = "prospect:*"
# Retaining with a model extracts facts first (a call to the LLM per chunk): allow for it.
REASONING_RETAIN_TIMEOUT = 120.0


class ProspectMemory:
    """One bank per workspace; every prospect isolated by its `prospect:<slug>` tag."""

    def __init__(
        self,
        client: Hindsight,
        bank_prefix: str,
        setup: BankSetup | None = None,
        retain_client: Hindsight | None = None,
        database_url: Callable[[], str | None] | None = None,
    ) -> None:
        self._client = client
        # The embedded server's PostgreSQL, for what its API cannot erase (purge_erased).
        self._database_url = database_url
        self._retain_client = retain_client or client
        self._bank_prefix = bank_prefix
        self._setup = setup
        self._configured: set[str] = set()
        self._reasons: bool | None = None

    @classmethod
    def connect(
        cls,
        url: str,
        bank_prefix: str,
        api_key: str | None = None,
        timeout: float = 20.0,
        setup: BankSetup | None = None,
        database_url: Callable[[], str | None] | None = None,
    ) -> ProspectMemory:
        retain_timeout = max(timeout, REASONING_RETAIN_TIMEOUT)
        return cls(
            Hindsight(base_url=url, api_key=api_key, timeout=timeout),
            bank_prefix,
            setup,
            Hindsight(base_url=url, api_key=api_key, timeout=retain_timeout),
            database_url,
        )

    @property
    def bank_prefix(self) -> str:
        return self._bank_prefix

    def bank_id(self, workspace_id: str) -> str:
        return f"{self._bank_prefix}-{workspace_id}"

    async def aclose(self) -> None:
        await self._client.aclose()
        if self._retain_client is not self._client:
            await self._retain_client.aclose()

    async def ping(self) -> bool:
        """Whether Hindsight answers at all (for /healthz)."""
        try:
            async with _memory_errors("health check"):
                await self._client.aget_version()
        except MemoryUnavailable:
            return False
        return True

    async def reasons(self) -> bool:
        """Whether the server extracts facts and keeps observations with an LLM (False in
        chunks mode, where a note is stored as text and embedding only). Asked once."""
        if self._reasons is None:
            async with _memory_errors("version"):
                version = await self._client.aget_version()
            features = version.features
            self._reasons = bool(getattr(features, "observations", False))
        return self._reasons

    async def configure_bank(self, workspace_id: str) -> None:
        """Set the workspace's bank up for sales (idempotent; once per bank per process).

        A server that refuses the configuration API still stores notes: that is logged once.
        """
        bank = self.bank_id(workspace_id)
        if self._setup is None or bank in self._configured:
            return
        setup = self._setup
        try:
            async with _memory_errors("bank set-up"):
                await self._client.acreate_bank(bank, retain_mission=setup.retain_mission)
                await self._client.aupdate_bank_config(
                    bank,
                    retain_mission=setup.retain_mission,
                    entity_labels=setup.entity_labels,
                    default_observation_scopes=setup.observation_scopes,
                    retain_chunk_size=setup.chunk_size,
                )
        except MemoryRejected:
            logger.warning(
                "Hindsight refused the sales set-up of bank %s; using its defaults", bank
            )
        self._configured.add(bank)

    async def bank_config(self, workspace_id: str) -> dict[str, Any]:
        """The bank's configuration as the server resolves it (for checks and diagnostics)."""
        async with _memory_errors("bank config"):
            answer = await self._client.aget_bank_config(self.bank_id(workspace_id))
        config: dict[str, Any] = dict(answer.get("config") or {})
        return config

    async def retain_call(self, call: CallLog) -> list[str]:
        """Store one call; its `call_id` is the document id, so a retry replaces, never doubles.
        Returns the ids of the operation records memory kept of it (they hold the note).

        The note is retained alone; who, when and how it went go in context and metadata, and
        the prospect and company as entities (with an LLM, header lines become junk facts).
        """
        await self.configure_bank(call.workspace_id)
        await self.reasons()  # each document records how it was filed
        async with _memory_errors("retain"):
            answer = await self._retain_client.aretain_batch(
                bank_id=self.bank_id(call.workspace_id), items=self._items(call)
            )
        return [*(answer.operation_ids or []), *filter(None, [answer.operation_id])]

    async def submit_call(self, call: CallLog, operation_id: str) -> None:
        """Hand a call to memory's own queue (an LLM extracts its facts there); returns once
        memory has accepted it. The same `operation_id` again is the same work, never twice."""
        await self.configure_bank(call.workspace_id)
        await self.reasons()
        async with _memory_errors("retain"):
            await self._client.aretain_batch(
                bank_id=self.bank_id(call.workspace_id),
                items=self._items(call),
                retain_async=True,
                operation_id=operation_id,
            )

    async def operation(self, workspace_id: str, operation_id: str) -> tuple[str, str | None]:
        """(status, error) of an operation: pending, processing, completed, failed, cancelled
        or not_found."""
        bank = self.bank_id(workspace_id)
        status = await self._call(
            "operation status",
            lambda: self._client.operations.get_operation_status(bank, operation_id),
        )
        return str(status.status), status.error_message

    def _items(self, call: CallLog) -> list[dict[str, Any]]:
        """The call as memory items: the note, and the transcript when there is one."""
        scopes = self._setup.observation_scopes if self._setup else [[PROSPECT_SCOPE]]
        timestamp = call.call_date.isoformat() + "T12:00:00+00:00"
        # How it was filed: as text only (chunks mode) notes are re-filed once memory reasons.
        filed = {FILED: FILED_AS_FACTS if self._reasons else FILED_AS_TEXT}
        items: list[dict[str, Any]] = [
            {
                "content": call.content(),
                "timestamp": timestamp,
                "context": call.context(),
                "metadata": {**call.metadata(), **filed},
                "tags": call.tags(),
                "entities": call.entities(),
                "observation_scopes": scopes,
                "document_id": call.call_id,
            }
        ]
        if call.transcript:
            items.append(
                {
                    "content": call.transcript_content(),
                    "timestamp": timestamp,
                    "context": call.transcript_context(),
                    "metadata": {**call.metadata(TRANSCRIPT_TYPE), **filed},
                    "tags": call.tags(TRANSCRIPT_TYPE),
                    "entities": call.entities(),
                    "observation_scopes": scopes,
                    "document_id": f"{call.call_id}-transcript",
                }
            )
        return items

    async def recall_prospect(
        self,
        workspace_id: str,
        slug: str,
        name: str,
        query: str | None = None,
        max_tokens: int = 4096,
        also_tagged: tuple[str, ...] = (),
        types: tuple[str, ...] | None = None,
        rep_id: str | None = None,
    ) -> list[RecalledMemory]:
        """A prospect's memories most relevant to `query`; never another prospect's.

        `also_tagged` narrows to memories carrying those tags too (with an LLM, facts carry
        label tags such as `objection:pricing`); `types` picks memory types (world,
        experience, observation; default: the server's). With `rep_id` (NOTES_VISIBILITY=own)
        only what that rep's own notes hold.
        """
        tags = [prospect_tag(slug), *also_tagged]
        query = query or DEFAULT_RECALL_QUERY.format(name=name)
        if rep_id is None:
            return await self._recall(workspace_id, query, tags, types, max_tokens)
        own = rep_tag(rep_id)
        # Notes and the facts extracted from them carry their document's tags, the rep's too.
        mine = self._recall(workspace_id, query, [*tags, own], types, max_tokens, own)
        if also_tagged or (types and "observation" not in types) or not await self.reasons():
            return await mine
        # Observations are consolidated per prospect across reps and carry only the prospect's
        # tag, so the rep's tag would never match one: they are recalled by the prospect and
        # kept only when every fact behind them came from this rep's own notes.
        found, observed = await asyncio.gather(
            mine, self._recall(workspace_id, query, tags, ("observation",), max_tokens, own)
        )
        return _interleaved(found, observed)

    async def _recall(
        self,
        workspace_id: str,
        query: str,
        tags: list[str],
        types: tuple[str, ...] | None,
        max_tokens: int,
        only_from: str | None = None,
    ) -> list[RecalledMemory]:
        """Recall by all of `tags`; with `only_from` (a rep's tag) an observation is kept only
        if every one of its source facts carries that tag (one not returned counts against)."""
        response = await self._call(
            "recall",
            lambda: self._client.arecall(
                bank_id=self.bank_id(workspace_id),
                query=query,
                tags=tags,
                types=list(types) if types else None,
                tags_match="all_strict",
                max_tokens=max_tokens,
                budget="mid",
                # Tags already isolate the prospect: let a loosely phrased query still see
                # every note rather than fall under the default similarity floor.
                min_scores={"semantic": 0.0},
                # An observation is only as good as the notes behind it: fetch its evidence.
                include_source_facts=True,
            ),
            missing=_NO_RECALL,
        )
        evidence = response.source_facts or {}

        def sources(result: Any) -> tuple[tuple[str, date], ...]:
            found = []
            for fact_id in result.source_fact_ids or ():
                fact = evidence.get(fact_id)
                when = _parse_date((fact.metadata or {}).get("date")) if fact else None
                if fact is not None and fact.document_id and when is not None:
                    found.append((fact.document_id, when))
            return tuple(sorted(set(found), key=lambda source: (source[1], source[0])))

        def allowed(result: Any) -> bool:
            if only_from is None or result.type != "observation":
                return True
            facts = [evidence.get(fact_id) for fact_id in result.source_fact_ids or ()]
            return bool(facts) and all(f is not None and only_from in (f.tags or ()) for f in facts)

        return [_recalled(r, sources(r)) for r in response.results if allowed(r)]

    async def recall_rep_notes(
        self, workspace_id: str, rep_id: str, query: str, max_tokens: int = 4096
    ) -> list[RecalledMemory]:
        """Across all of a rep's call notes (never another rep's, never a transcript), the
        memories most relevant to `query`, best first: one query embedding for a whole
        pipeline."""
        response = await self._call(
            "recall",
            lambda: self._client.arecall(
                bank_id=self.bank_id(workspace_id),
                query=query,
                tags=[rep_tag(rep_id), type_tag(CALL_LOG_TYPE)],
                tags_match="all_strict",
                max_tokens=max_tokens,
                budget="low",
            ),
            missing=_NO_RECALL,
        )
        return [_recalled(result) for result in response.results]

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
        semaphore = asyncio.Semaphore(_FETCH_CONCURRENCY)

        async def read(call: ListedCall) -> TimelineEntry | None:
            async with semaphore:
                full = await self._call(
                    "get document",
                    partial(self._client.documents.get_document, bank, call.call_id),
                    missing=_GONE,  # forgotten between list and get
                )
            if full is _GONE:
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

        semaphore = asyncio.Semaphore(_FETCH_CONCURRENCY)

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

    async def refile(self, workspace_id: str, document_id: str) -> str | None:
        """Have memory extract facts from a stored document again (in its own queue); returns
        the operation id, or None when the document is gone."""
        bank = self.bank_id(workspace_id)
        await self.configure_bank(workspace_id)
        answer = await self._call(
            "reprocess document",
            lambda: self._client.documents.reprocess_document(bank, document_id),
            missing=_GONE,
        )
        if answer is _GONE:
            return None
        return str(answer.operation_id) if answer.operation_id else ""

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
                missing=_GONE,
            )
            if status is _GONE:
                continue
            # A batch keeps each sub-batch (and its payload) as an operation of its own.
            children = [c.operation_id for c in status.child_operations or []]
            for one in [*children, operation_id]:
                await self._call(
                    "delete operation",
                    partial(self._client.operations.delete_operation, bank, one),
                    missing=_GONE,
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
                missing=_GONE,
            )
            deleted += answer is not _GONE
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
                    last_contact=_parse_date(latest.get("date")) or date.min,
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

    async def _call(
        self, action: str, request: Callable[[], Awaitable[T]], missing: T | None = None
    ) -> T:
        """Run one request; a 404 (a bank or document that does not exist yet) gives `missing`."""
        async with _memory_errors(action):
            return await _answer_or_missing(request, missing)

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


async def _answer_or_missing(request: Callable[[], Awaitable[T]], missing: T | None) -> T:
    try:
        return await request()
    except ApiException as exc:
        if exc.status == 404 and missing is not None:
            return missing
        raise


def _listed_call(doc: DocumentListItem) -> ListedCall:
    meta = doc.document_metadata or {}
    return ListedCall(
        call_id=doc.id,
        prospect=str(meta.get("prospect", "")),
        call_date=_parse_date(meta.get("date")) or date.min,
        outcome=str(meta.get("outcome", "")),
        rep_id=str(meta.get("rep", "")),
        has_transcript=meta.get("has_transcript") == "yes",
        logged_at=str(meta.get("logged_at", doc.created_at)),
        length=doc.text_length or 0,
        metadata=dict(meta),
    )


def _interleaved(*ranked: list[RecalledMemory]) -> list[RecalledMemory]:
    """Lists each ranked best first, merged turn by turn so none crowds out the others."""
    merged: list[RecalledMemory] = []
    for row in itertools.zip_longest(*ranked):
        merged.extend(memory for memory in row if memory is not None)
    return merged


def _recalled(result: Any, sources: tuple[tuple[str, date], ...] = ()) -> RecalledMemory:
    """One recall result, dated by the call it came from."""
    return RecalledMemory(
        text=result.text,
        document_id=result.document_id,
        call_date=_parse_date((result.metadata or {}).get("date")),
        metadata=dict(result.metadata or {}),
        tags=tuple(result.tags or ()),
        kind=str(result.type or ""),
        sources=sources,
    )


def _parse_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
