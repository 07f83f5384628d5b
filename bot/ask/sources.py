"""The notes a question is answered from, read within its scope: every note of each prospect it
names (those still on their way to memory included), or for the whole pipeline, what one recall
across the rep's notes ranks most relevant, spread over every prospect it found."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from bot.ask.answer import Source
from bot.ask.scope import Scope
from bot.domain.prospect_lookup import ProspectMatch
from bot.domain.recall import NOTES_BUDGET_CHARS, recollect, within_budget
from bot.services import Services
from memory.index import KnownProspect
from memory.records import OUTCOMES, RecalledMemory, TimelineEntry

# Recall across a pipeline: enough room that every prospect a topic touches comes back, not
# only the top few notes; each prospect then gives the prompt a few of its best.
PIPELINE_RECALL_TOKENS = 12_000
PER_PROSPECT = 4
ALWAYS_LATEST = 3  # of a named prospect, whatever the question


async def _named_notes(
    services: Services, workspace_id: str, rep_id: str, scope: Scope, question: str
) -> list[tuple[KnownProspect, TimelineEntry]]:
    """Each named prospect's notes the rep may read, in the period, within a share of the
    prompt's budget."""
    share = NOTES_BUDGET_CHARS // max(len(scope.named), 1)

    async def notes_of(prospect: KnownProspect) -> list[tuple[KnownProspect, TimelineEntry]]:
        match = ProspectMatch(prospect.name, prospect.slug, prospect.name, True, [])
        recalled = await recollect(services, workspace_id, match, question, rep_id)
        entries = [
            e for e in recalled.entries if scope.period is None or scope.period.holds(e.call_date)
        ]
        return [
            (prospect, e) for e in within_budget(entries, recalled.ranked, share, ALWAYS_LATEST)
        ]

    found = await asyncio.gather(*(notes_of(p) for p in scope.named))
    return [pair for pairs in found for pair in pairs]


async def _pipeline_notes(
    services: Services, workspace_id: str, scope: Scope, question: str
) -> list[tuple[KnownProspect, RecalledMemory]]:
    """What one recall across the rep's notes finds, spread over every prospect it found: each
    prospect's best memory first, then each one's second best, up to PER_PROSPECT, as far as the
    prompt's budget goes; grouped by prospect, best prospect first. Each memory is dated and
    placed by its call in the local index (which holds every call logged): a call the index does
    not hold (erased), of a prospect or, under `own`, a rep out of scope, or outside the period,
    is left out."""
    recalled = await services.memory.recall_notes(
        workspace_id, question, scope.seen_by, PIPELINE_RECALL_TOKENS
    )
    ids = list(dict.fromkeys(m.document_id for m in recalled if m.document_id))
    logged = await services.index.calls_by_id(workspace_id, ids)
    visible = {p.slug: p for p in scope.pipeline}
    ranked: dict[str, list[tuple[KnownProspect, RecalledMemory]]] = {}
    seen: set[tuple[str, str]] = set()
    for memory in recalled:
        call = logged.get(memory.document_id or "")
        prospect = visible.get(call.slug) if call is not None else None
        if call is None or prospect is None or (call.call_id, memory.text) in seen:
            continue
        if scope.seen_by is not None and call.rep_id != scope.seen_by:
            continue
        if scope.period is not None and not scope.period.holds(call.call_date):
            continue
        seen.add((call.call_id, memory.text))
        dated = replace(memory, call_date=call.call_date, metadata={"outcome": call.outcome})
        ranked.setdefault(prospect.slug, []).append((prospect, dated))
    taken = spread({slug: [len(m.text) for _, m in pairs] for slug, pairs in ranked.items()})
    return [pair for slug, pairs in ranked.items() for pair in pairs[: taken.get(slug, 0)]]


def spread(sizes: dict[str, list[int]]) -> dict[str, int]:
    """How many of each prospect's memories (their sizes, best first) fit the prompt: every
    prospect's best before any prospect's second, up to PER_PROSPECT, until the budget is full."""
    taken: dict[str, int] = {}
    used = 0
    for rank in range(PER_PROSPECT):
        for slug, sized in sizes.items():
            if rank >= len(sized):
                continue
            if used + sized[rank] > NOTES_BUDGET_CHARS:
                return taken
            used += sized[rank]
            taken[slug] = rank + 1
    return taken


async def gather_sources(
    services: Services, workspace_id: str, rep_id: str, scope: Scope, question: str
) -> list[Source]:
    """The notes the question may be answered from, numbered for citing. Raises
    `MemoryUnavailable` when memory cannot be read."""
    sources: list[Source] = []
    if scope.named:
        for prospect, entry in await _named_notes(services, workspace_id, rep_id, scope, question):
            sources.append(
                Source(
                    f"n{len(sources) + 1}",
                    entry.call_id,
                    prospect.slug,
                    prospect.name,
                    prospect.company,
                    entry.call_date,
                    entry.outcome_label,
                    entry.note,
                )
            )
        return sources
    for prospect, memory in await _pipeline_notes(services, workspace_id, scope, question):
        sources.append(
            Source(
                f"n{len(sources) + 1}",
                memory.document_id or "",
                prospect.slug,
                prospect.name,
                prospect.company,
                memory.call_date,
                OUTCOMES.get(memory.metadata.get("outcome", ""), ""),
                memory.text,
            )
        )
    return sources
