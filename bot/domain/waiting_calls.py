"""Calls logged but not yet in memory: every history (timeline, brief, digest) shows them,
marked, until memory has them, and never twice once it does."""

from __future__ import annotations

from collections.abc import Sequence

from bot.services import EVERYONE, Services, Sight
from memory.records import ListedCall, TimelineEntry, newest_first


async def waiting_entries(
    services: Services, workspace_id: str, slug: str, sight: Sight = EVERYONE
) -> list[TimelineEntry]:
    """Calls logged but not yet in memory (those `sight` shows), marked as waiting."""
    return [
        TimelineEntry.from_call(call, pending=True)
        for call in await services.index.waiting(workspace_id, slug)
        if sight.shows(call.rep_id)
    ]


def not_stored(
    stored: Sequence[TimelineEntry | ListedCall], waiting: list[TimelineEntry]
) -> list[TimelineEntry]:
    stored_ids = {row.call_id for row in stored}
    return [entry for entry in waiting if entry.call_id not in stored_ids]


def merge_waiting(stored: list[TimelineEntry], waiting: list[TimelineEntry]) -> list[TimelineEntry]:
    """Stored calls plus the waiting ones memory does not have yet, newest first."""
    return newest_first([*stored, *not_stored(stored, waiting)])
