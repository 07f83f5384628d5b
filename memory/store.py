"""Hindsight as the memory of every prospect: retain, recall, timeline, list, forget.

Async only: the sync client binds its session to the first thread's loop and fails when called
from Bolt's or APScheduler's workers.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date
from functools import partial
from typing import Any, TypeVar

import aiohttp
import pydantic
from hindsight_client import Hindsight
from hindsight_client_api.exceptions import ApiException
from hindsight_client_api.models.list_documents_response import ListDocumentsResponse
from hindsight_client_api.models.recall_response import RecallResponse

from memory.records import (
    CALL_LOG_TYPE,
    TRANSCRIPT_TYPE,
    CallLog,
    ProspectSummary,
    RecalledMemory,
    TimelineEntry,
    newest_first,
    note_from_content,
    prospect_tag,
    rep_tag,
    type_tag,
)

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
_GONE: Any = object()


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
        if (
            exc.status in (429, 503)
            and exc.headers
            and any(key.lower() == "retry-after" for key in exc.headers)
        ):
            raise MemoryBusy(message, _retry_after(exc)) from exc
        if isinstance(exc.status, int) and 400 <= exc.status < 500 and exc.status not in (408, 429):
            raise MemoryRejected(message) from exc
        raise MemoryUnavailable(message) from exc
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise MemoryUnavailable(f"Hindsight unreachable during {action}: {exc!r}") from exc
    except (pydantic.ValidationError, json.JSONDecodeError) as exc:
        # Something answered, but not Hindsight (a proxy's error page, a half-started server).
        raise MemoryUnavailable(f"Hindsight gave an unreadable answer to {action}") from exc


class ProspectMemory:
    """One bank per workspace; every prospect isolated by its `prospect:<slug>` tag."""

    def __init__(self, client: Hindsight, bank_prefix: str) -> None:
        self._client = client
        self._bank_prefix = bank_prefix

    @classmethod
    def connect(
        cls, url: str, bank_prefix: str, api_key: str | None = None, timeout: float = 20.0
    ) -> ProspectMemory:
        return cls(Hindsight(base_url=url, api_key=api_key, timeout=timeout), bank_prefix)

    @property
    def bank_prefix(self) -> str:
        return self._bank_prefix

    def bank_id(self, workspace_id: str) -> str:
        return f"{self._bank_prefix}-{workspace_id}"

    async def aclose(self) -> None:
        await self._client.aclose()

    async def ping(self) -> bool:
        """Whether Hindsight answers at all (for /healthz)."""
        try:
            async with _memory_errors("health check"):
                await self._client.aget_version()
        except MemoryUnavailable:
            return False
        return True

    async def retain_call(self, call: CallLog) -> None:
        """Store one call; its `call_id` is the document id, so a retry replaces, never doubles."""
        items: list[dict[str, Any]] = [
            {
                "content": call.content(),
                "timestamp": call.call_date.isoformat() + "T12:00:00+00:00",
                "context": f"sales call log for {call.prospect}",
                "metadata": call.metadata(),
                "tags": call.tags(),
                "document_id": call.call_id,
            }
        ]
        if call.transcript:
            items.append(
                {
                    "content": call.transcript_content(),
                    "timestamp": call.call_date.isoformat() + "T12:00:00+00:00",
                    "context": f"sales call transcript for {call.prospect}",
                    "metadata": call.metadata(TRANSCRIPT_TYPE),
                    "tags": call.tags(TRANSCRIPT_TYPE),
                    "document_id": f"{call.call_id}-transcript",
                }
            )
        async with _memory_errors("retain"):
            await self._client.aretain_batch(bank_id=self.bank_id(call.workspace_id), items=items)

    async def recall_prospect(
        self,
        workspace_id: str,
        slug: str,
        name: str,
        query: str | None = None,
        max_tokens: int = 4096,
    ) -> list[RecalledMemory]:
        """A prospect's memories most relevant to `query`; never another prospect's."""
        response = await self._call(
            "recall",
            lambda: self._client.arecall(
                bank_id=self.bank_id(workspace_id),
                query=query or DEFAULT_RECALL_QUERY.format(name=name),
                tags=[prospect_tag(slug)],
                tags_match="all_strict",
                max_tokens=max_tokens,
                budget="mid",
                # Tags already isolate the prospect: let a loosely phrased query still see
                # every note rather than fall under the default similarity floor.
                min_scores={"semantic": 0.0},
            ),
            missing=_NO_RECALL,
        )
        return [
            RecalledMemory(
                text=result.text,
                document_id=result.document_id,
                call_date=_parse_date((result.metadata or {}).get("date")),
                metadata=dict(result.metadata or {}),
            )
            for result in response.results
        ]

    async def timeline(self, workspace_id: str, slug: str) -> list[TimelineEntry]:
        """Every logged call for a prospect, newest first, with the rep's note."""
        bank = self.bank_id(workspace_id)
        documents = await self._list_documents(bank, [prospect_tag(slug), type_tag(CALL_LOG_TYPE)])
        semaphore = asyncio.Semaphore(_FETCH_CONCURRENCY)

        async def entry(doc: Any) -> TimelineEntry | None:
            async with semaphore:
                full = await self._call(
                    "get document",
                    lambda: self._client.documents.get_document(bank, doc.id),
                    missing=_GONE,  # forgotten between list and get
                )
            if full is _GONE:
                return None
            meta = full.document_metadata or {}
            return TimelineEntry(
                call_id=full.id,
                prospect=str(meta.get("prospect", "")),
                call_date=_parse_date(meta.get("date")) or date.min,
                outcome=str(meta.get("outcome", "")),
                rep_id=str(meta.get("rep", "")),
                note=note_from_content(full.original_text or ""),
                has_transcript=meta.get("has_transcript") == "yes",
                logged_at=str(meta.get("logged_at", full.created_at)),
            )

        entries = await asyncio.gather(*(entry(doc) for doc in documents))
        return newest_first([e for e in entries if e is not None])

    async def rep_prospects(self, workspace_id: str, rep_id: str) -> list[ProspectSummary]:
        """The prospects a rep has logged calls for, most recently contacted first."""
        return await self._summaries(workspace_id, [rep_tag(rep_id)])

    async def workspace_prospects(self, workspace_id: str) -> list[ProspectSummary]:
        """Every prospect with a logged call in this workspace, most recently contacted first."""
        return await self._summaries(workspace_id, [])

    async def forget_prospect(self, workspace_id: str, slug: str) -> int:
        """Delete every document about a prospect (right to be forgotten); returns how many."""
        bank = self.bank_id(workspace_id)
        documents = await self._list_documents(bank, [prospect_tag(slug)])
        for doc in documents:
            await self._call(
                "delete document",
                partial(self._client.documents.delete_document, bank, doc.id),
                missing=_GONE,
            )
        return len(documents)

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
            try:
                return await request()
            except ApiException as exc:
                if exc.status == 404 and missing is not None:
                    return missing
                raise


def _parse_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
