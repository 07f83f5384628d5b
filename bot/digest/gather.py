"""What the digest knows about each of a rep's prospects, gathered for the whole pipeline at once.

One listing of memory by the rep's tag gives every note of every prospect (no query embedding,
no document read per call); calls still waiting in the local outbox join them, marked. The
facts (last contact, days of silence, interactions, last outcome) are computed from the calls'
dates and outcomes, never asked of a model.

The prompt can keep only a prospect's newest notes (a share of the token budget each). What
listing by date alone would lose is an old note that still matters — a budget freeze two months
back. When some prospect's history is longer than its share, ONE recall across the rep's whole
pipeline (one query embedding, beside the listing) ranks the notes that speak of blockers and
risks, and the prompt keeps the best of them for each prospect beside its newest notes. A
recall per prospect would cost a query embedding per prospect: the seeds' loop this replaces.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from bot.domain.deal_facts import BriefFacts, BriefNote
from bot.domain.waiting_calls import merge_waiting
from bot.services import Services
from memory.index import KnownProspect
from memory.records import RecalledMemory, TimelineEntry
from memory.rep_notes import RepNote

GATHER_CONCURRENCY = 8
NOTE_CHARS = 300  # a note in the digest is its first 300 characters
RELEVANT_PER_PROSPECT = 3  # earlier notes recall ranks relevant, kept per prospect
MAX_LABELS = 8
# What makes an old note matter to this week's ranking.
SIGNAL_QUERY = (
    "budget frozen, cut, pulled or on hold; blockers; risks; objections; a competitor; legal, "
    "security or procurement review; the deal stalled or went quiet; the decision maker changed"
)
_RECALL_TOKENS = 4096


@dataclass(frozen=True)
class ProspectContext:
    slug: str
    name: str
    company: str
    facts: BriefFacts
    notes: list[BriefNote]  # the rep's notes on the prospect (text cut to NOTE_CHARS)
    # Notes recall ranked most relevant to blockers and risks, best first: the prompt keeps
    # one beside the newest notes when it is older than those.
    relevant: list[BriefNote] = field(default_factory=list)
    # With an LLM in memory: each label memory gave the prospect's notes (objection:pricing),
    # with the date of the latest note carrying it, over the whole history.
    labels: dict[str, date] = field(default_factory=dict)


async def gather_contexts(
    services: Services,
    workspace_id: str,
    rep_id: str,
    today: date,
    concurrency: int = GATHER_CONCURRENCY,
    notes_chars: Callable[[int], int] | None = None,
) -> list[ProspectContext]:
    """Every prospect of the rep (the local index lists them), each exactly once, with facts
    and notes. `notes_chars(n)` is how many characters of notes the prompt keeps for each of
    n prospects: recall runs only when some prospect has more (None: never).

    Raises `MemoryUnavailable` when memory cannot be read.
    """
    prospects = await services.index.known_prospects(workspace_id, rep_id=rep_id)
    if not prospects:
        return []
    # Waiting calls first: one delivered meanwhile is then in memory, never missing from both.
    waiting: dict[str, list[TimelineEntry]] = {}
    for call in await services.index.waiting(workspace_id):
        if call.rep_id == rep_id:
            waiting.setdefault(call.slug, []).append(TimelineEntry.from_call(call, pending=True))
    longest = max(p.interactions for p in prospects)
    recall = notes_chars is not None and longest * NOTE_CHARS > notes_chars(len(prospects))
    listed, recalled = await asyncio.gather(
        services.memory.rep_notes(workspace_id, rep_id),
        services.memory.recall_rep_notes(workspace_id, rep_id, SIGNAL_QUERY, _RECALL_TOKENS)
        if recall
        else _nothing_recalled(),
    )
    stored: dict[str, list[RepNote]] = {}
    for note in listed:
        stored.setdefault(note.slug, []).append(note)
    entries = {
        p.slug: merge_waiting([n.entry for n in stored.get(p.slug, [])], waiting.get(p.slug, []))
        for p in prospects
    }
    await _complete_from_documents(services, workspace_id, rep_id, prospects, entries, concurrency)
    by_call = {e.call_id: (slug, e) for slug, found in entries.items() for e in found}
    return [
        ProspectContext(
            p.slug,
            p.name,
            p.company,
            BriefFacts.from_timeline(entries[p.slug], today),
            [_short(e) for e in entries[p.slug]],
            _relevant(recalled, by_call, p.slug),
            _labels(stored.get(p.slug, [])),
        )
        for p in prospects
    ]


async def _nothing_recalled() -> list[RecalledMemory]:
    return []


async def _complete_from_documents(
    services: Services,
    workspace_id: str,
    rep_id: str,
    prospects: Sequence[KnownProspect],
    entries: dict[str, list[TimelineEntry]],
    concurrency: int,
) -> None:
    """Calls the index counts but the listing lacks (with an LLM, a note memory found no fact
    in has no memory unit) are read from the prospect's document listing, so the facts count
    every call; their note shows as empty. Only such prospects cost a request."""
    short = [p for p in prospects if len(entries[p.slug]) < p.interactions]
    semaphore = asyncio.Semaphore(concurrency)

    async def complete(slug: str) -> None:
        async with semaphore:
            calls = await services.memory.listed_calls(workspace_id, slug)
        have = {e.call_id for e in entries[slug]}
        found = [c.with_note("") for c in calls if c.rep_id == rep_id and c.call_id not in have]
        entries[slug] = merge_waiting(entries[slug], found)

    await asyncio.gather(*(complete(p.slug) for p in short))


def _short(entry: TimelineEntry) -> BriefNote:
    return BriefNote(
        entry.call_date, entry.outcome_label, entry.note[:NOTE_CHARS], waiting=entry.pending
    )


def _relevant(
    recalled: list[RecalledMemory], by_call: dict[str, tuple[str, TimelineEntry]], slug: str
) -> list[BriefNote]:
    """The prospect's notes in the order recall ranked them (a note once, however many of
    its facts were recalled)."""
    ranked: dict[str, BriefNote] = {}
    for memory in recalled:
        found = by_call.get(memory.document_id or "")
        if found is None or found[0] != slug:
            continue
        entry = found[1]
        ranked.setdefault(entry.call_id, _short(entry))
        if len(ranked) == RELEVANT_PER_PROSPECT:
            break
    return list(ranked.values())


def _labels(notes: list[RepNote]) -> dict[str, date]:
    """Each label with the date of the latest note carrying it, latest first, at most
    MAX_LABELS."""
    latest: dict[str, date] = {}
    for note in notes:
        for label in note.labels:
            latest[label] = max(latest.get(label, date.min), note.entry.call_date)
    ordered = sorted(latest.items(), key=lambda item: (item[1], item[0]), reverse=True)
    return dict(ordered[:MAX_LABELS])
