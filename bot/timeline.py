"""A prospect's history: every logged call, newest first, including calls still kept locally."""

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


async def prospect_timeline(services: Services, workspace_id: str, typed: str) -> Timeline:
    """Raises `MemoryUnavailable` when Hindsight cannot be read and nothing is kept locally."""
    match = find_prospect(services.index, workspace_id, typed)
    kept = [
        TimelineEntry.from_call(call, pending=True)
        for call in services.index.pending(workspace_id, match.slug)
    ]
    try:
        # Hindsight is the source of truth: an exact name is looked up even if the index lacks it.
        stored = await services.memory.timeline(workspace_id, match.slug)
    except MemoryUnavailable:
        if not kept:
            raise
        return Timeline(match, newest_first(kept), memory_down=True)
    stored_ids = {entry.call_id for entry in stored}
    unsent = [entry for entry in kept if entry.call_id not in stored_ids]
    return Timeline(match, newest_first(stored + unsent))
