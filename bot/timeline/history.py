"""A prospect's history: every logged call, newest first, including calls still on their way.

The timeline shows one page at a time: memory's listing of the prospect's calls (metadata and
text length, no text) orders the history and cuts it into pages, and only the notes of the page
shown are read. Calls waiting in the local outbox have their notes here already.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TypeVar

from bot.blocks.limits import SECTION_TEXT
from bot.domain.prospect_lookup import ProspectMatch, find_prospect
from bot.domain.waiting_calls import merge_waiting, not_stored, waiting_entries
from bot.services import EVERYONE, Services, Sight
from memory.records import ListedCall, TimelineEntry, newest_first
from memory.store import MemoryUnavailable, ProspectMemory

PAGE_ENTRIES = 10
# Keeps a page's text well under what Slack shows of one message.
PAGE_CHARS = 12_000

# A call on the timeline: waiting (its note in hand) or stored (its note read when shown).
Row = TimelineEntry | ListedCall
RowT = TypeVar("RowT", bound=Row)


@dataclass(frozen=True)
class Timeline:
    """One page of a prospect's history, newest first, and where it sits in the whole."""

    match: ProspectMatch
    entries: list[TimelineEntry]  # the page's calls, with their notes
    count: int = 0  # calls in the whole history
    last_contact: date | None = None
    page: int = 0
    pages: int = 1
    memory_down: bool = False  # only calls kept locally could be shown
    teammates: int = 0  # NOTES_VISIBILITY=own: other reps' calls, counted and not shown

    @property
    def found(self) -> bool:
        return self.count > 0


def paginate(lengths: Sequence[int]) -> list[tuple[int, int]]:
    """[start, end) of each page: at most PAGE_ENTRIES calls and about PAGE_CHARS of notes.

    From the notes' lengths alone, so the pages are the same whether or not a note is read.
    """
    pages: list[tuple[int, int]] = []
    start, chars = 0, 0
    for i, length in enumerate(lengths):
        size = min(length, SECTION_TEXT)
        if i > start and (i - start >= PAGE_ENTRIES or chars + size > PAGE_CHARS):
            pages.append((start, i))
            start, chars = i, 0
        chars += size
    if start < len(lengths):
        pages.append((start, len(lengths)))
    return pages


def note_length(row: Row) -> int:
    """Characters of a call's note as memory stores (or will store) it."""
    return row.length if isinstance(row, ListedCall) else len(row.note)


def cut_page(rows: Sequence[RowT], page: int) -> tuple[int, int, list[RowT]]:
    """(page, page count, the page's rows), the page number brought within range."""
    pages = paginate([note_length(row) for row in rows]) or [(0, 0)]
    page = max(0, min(page, len(pages) - 1))
    start, end = pages[page]
    return page, len(pages), list(rows[start:end])


async def full_history(
    services: Services, workspace_id: str, slug: str, sight: Sight = EVERYONE
) -> tuple[list[TimelineEntry], bool]:
    """(every call `sight` shows, with its note; memory down): what memory holds plus what is
    on its way.

    Reads every note: a timeline page uses `prospect_timeline`, which reads only its own.
    Raises `MemoryUnavailable` when memory cannot be read and nothing is waiting locally.
    """
    waiting = await waiting_entries(services, workspace_id, slug, sight)
    try:
        stored = await services.memory.timeline(workspace_id, slug, sight.rep_id)
    except MemoryUnavailable:
        if not waiting:
            raise
        return newest_first(waiting), True
    return merge_waiting(stored, waiting), False


async def prospect_timeline(
    services: Services, workspace_id: str, typed: str, page: int = 0, rep_id: str | None = None
) -> Timeline:
    """One page of a prospect's timeline: one listing of memory, then the notes of that page.

    Raises `MemoryUnavailable` when Hindsight cannot be read and nothing is kept locally.
    """
    match = await find_prospect(services.index, workspace_id, typed, services.seen_by(rep_id))
    if services.seen_by(rep_id) and not match.known:
        # NOTES_VISIBILITY=own: memory is not read for a prospect the rep has not logged.
        return await _page(services.memory, workspace_id, match, [], page)
    sight = await services.sight(workspace_id, match.slug, rep_id)
    # Hindsight is the source of truth: an exact name is looked up even if the index lacks it.
    waiting = await waiting_entries(services, workspace_id, match.slug, sight)
    try:
        listed = await services.memory.listed_calls(workspace_id, match.slug, sight.rep_id)
        rows: list[Row] = newest_first([*listed, *not_stored(listed, waiting)])
        shown = await _page(services.memory, workspace_id, match, rows, page)
    except MemoryUnavailable:
        if not waiting:
            raise
        rows = newest_first(waiting)
        shown = await _page(services.memory, workspace_id, match, rows, page, memory_down=True)
    return replace(shown, teammates=sight.teammates)


async def _page(
    memory: ProspectMemory,
    workspace_id: str,
    match: ProspectMatch,
    rows: Sequence[Row],
    page: int,
    memory_down: bool = False,
) -> Timeline:
    page, pages, shown = cut_page(rows, page)
    stored = [row for row in shown if isinstance(row, ListedCall)]
    read = {entry.call_id: entry for entry in await memory.with_notes(workspace_id, stored)}
    # A stored call forgotten since the listing is left out.
    entries = [
        row if isinstance(row, TimelineEntry) else read[row.call_id]
        for row in shown
        if isinstance(row, TimelineEntry) or row.call_id in read
    ]
    return Timeline(
        match,
        entries,
        count=len(rows),
        last_contact=rows[0].call_date if rows else None,
        page=page,
        pages=pages,
        memory_down=memory_down,
    )
