"""Hindsight as the memory of every prospect: retain, recall, timeline, list, forget.

Async only: the sync client binds its session to the first thread's loop and fails when called
from Bolt's or APScheduler's workers. Listing, reading and forgetting documents are in
memory.store_documents; reflect in memory.store_reflect; the error mapping in
memory.store_errors; the bank set-up in memory.bank_setup.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from hindsight_client import Hindsight
from hindsight_client_api.models.recall_response import RecallResponse

from memory.bank_setup import (
    FILED,
    FILED_AS_FACTS,
    FILED_AS_TEXT,
    PROSPECT_SCOPE,
    REASONING_RETAIN_TIMEOUT,
    BankSetup,
)
from memory.records import (
    CALL_LOG_TYPE,
    TRANSCRIPT_TYPE,
    CallLog,
    RecalledMemory,
    prospect_tag,
    rep_tag,
    type_tag,
)
from memory.store_base import GONE, parse_date
from memory.store_documents import DocumentsMemory
from memory.store_errors import MemoryBusy, MemoryRejected, MemoryUnavailable, memory_errors
from memory.store_reflect import ReflectMemory

# What other modules import from here, wherever it is defined.
__all__ = [
    "DEFAULT_RECALL_QUERY",
    "BankSetup",
    "MemoryBusy",
    "MemoryRejected",
    "MemoryUnavailable",
    "ProspectMemory",
]

logger = logging.getLogger(__name__)

DEFAULT_RECALL_QUERY = (
    "{name}: objections, concerns, budget, pricing, competitors, decision makers and roles, "
    "risks, next steps, commitments and outcomes of sales calls"
)


_NO_RECALL = RecallResponse(results=[])


class ProspectMemory(DocumentsMemory, ReflectMemory):
    """One bank per workspace; every prospect isolated by its `prospect:<slug>` tag."""

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

    async def ping(self) -> bool:
        """Whether Hindsight answers at all (for /healthz)."""
        try:
            async with memory_errors("health check"):
                await self._client.aget_version()
        except MemoryUnavailable:
            return False
        return True

    async def reasons(self) -> bool:
        """Whether the server extracts facts and keeps observations with an LLM (False in
        chunks mode, where a note is stored as text and embedding only). Asked once."""
        if self._reasons is None:
            async with memory_errors("version"):
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
            async with memory_errors("bank set-up"):
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
        async with memory_errors("bank config"):
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
        async with memory_errors("retain"):
            answer = await self._retain_client.aretain_batch(
                bank_id=self.bank_id(call.workspace_id), items=self._items(call)
            )
        return [*(answer.operation_ids or []), *filter(None, [answer.operation_id])]

    async def submit_call(self, call: CallLog, operation_id: str) -> None:
        """Hand a call to memory's own queue (an LLM extracts its facts there); returns once
        memory has accepted it. The same `operation_id` again is the same work, never twice."""
        await self.configure_bank(call.workspace_id)
        await self.reasons()
        async with memory_errors("retain"):
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
                when = parse_date((fact.metadata or {}).get("date")) if fact else None
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
        return await self.recall_notes(workspace_id, query, rep_id, max_tokens, "low")

    async def recall_notes(
        self,
        workspace_id: str,
        query: str,
        rep_id: str | None,
        max_tokens: int = 4096,
        budget: str = "mid",
    ) -> list[RecalledMemory]:
        """Across the call notes of every prospect (with `rep_id`: only that rep's notes;
        never a transcript), the memories most relevant to `query`, best first."""
        mine = [rep_tag(rep_id)] if rep_id is not None else []
        response = await self._call(
            "recall",
            lambda: self._client.arecall(
                bank_id=self.bank_id(workspace_id),
                query=query,
                tags=[*mine, type_tag(CALL_LOG_TYPE)],
                tags_match="all_strict",
                max_tokens=max_tokens,
                budget=budget,
            ),
            missing=_NO_RECALL,
        )
        return [_recalled(result) for result in response.results]

    async def refile(self, workspace_id: str, document_id: str) -> str | None:
        """Have memory extract facts from a stored document again (in its own queue); returns
        the operation id, or None when the document is gone."""
        bank = self.bank_id(workspace_id)
        await self.configure_bank(workspace_id)
        answer = await self._call(
            "reprocess document",
            lambda: self._client.documents.reprocess_document(bank, document_id),
            missing=GONE,
        )
        if answer is GONE:
            return None
        return str(answer.operation_id) if answer.operation_id else ""


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
        call_date=parse_date((result.metadata or {}).get("date")),
        metadata=dict(result.metadata or {}),
        tags=tuple(result.tags or ()),
        kind=str(result.type or ""),
        sources=sources,
    )
