"""A prospect's history: every logged call, newest first, including calls still on their way."""

from __future__ import annotations

from dataclasses import dataclass

from bot.prospect_lookup import ProspectMatch, find_prospect
from bot.services import Services
from memory.records import TimelineEntry, newest_first
from memory.store import MemoryUnavailable


@dataclass(frozen=True)
class Timeline:
    match: ProspectMatch
    entries: list[TimelineEntry]
    memory_down: bool = False  # only calls kept locally could be shown

    @property
    def found(self) -> bool:
        return bool(self.entries)


async def waiting_entries(services: Services, workspace_id: str, slug: str) -> list[TimelineEntry]:
    """Calls logged but not yet in memory, marked as waiting."""
    return [
        TimelineEntry.from_call(call, pending=True)
        for call in await services.index.waiting(workspace_id, slug)
    ]


def merge_waiting(stored: list[TimelineEntry], waiting: list[TimelineEntry]) -> list[TimelineEntry]:
    """Stored calls plus the waiting ones memory does not have yet, newest first."""
    stored_ids = {entry.call_id for entry in stored}
    return newest_first(stored + [e for e in waiting if e.call_id not in stored_ids])


async def full_history(
    services: Services, workspace_id: str, slug: str
) -> tuple[list[TimelineEntry], bool]:
    """(every call, memory down): what memory holds plus what is on its way to it.

    Raises `MemoryUnavailable` when memory cannot be read and nothing is waiting locally.
    """
    waiting = await waiting_entries(services, workspace_id, slug)
    try:
        stored = await services.memory.timeline(workspace_id, slug)
    except MemoryUnavailable:
        if not waiting:
            raise
        return newest_first(waiting), True
    return merge_waiting(stored, waiting), False


async def prospect_timeline(services: Services, workspace_id: str, typed: str) -> Timeline:
    """Raises `MemoryUnavailable` when Hindsight cannot be read and nothing is kept locally."""
    match = await find_prospect(services.index, workspace_id, typed)
    # Hindsight is the source of truth: an exact name is looked up even if the index lacks it.
    entries, memory_down = await full_history(services, workspace_id, match.slug)
    return Timeline(match, entries, memory_down)
