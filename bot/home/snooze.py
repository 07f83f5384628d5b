"""Snoozing a prospect: quiet until a date, then back in the ranking by itself."""

from __future__ import annotations

from datetime import date, timedelta

from bot.services import Services
from memory.index import KnownProspect

# How far ahead a snooze may go.
LONGEST_SNOOZE = timedelta(days=366)


def snooze_until(choice: str, today: date) -> date | None:
    """The last snoozed day for a menu choice ("7", "14", "30" days); None for anything else."""
    return today + timedelta(days=int(choice)) if choice in ("7", "14", "30") else None


def check_snooze_date(picked: str, today: date) -> tuple[date | None, str | None]:
    """(the date, None) when it can be snoozed until, else (None, what is wrong)."""
    try:
        until = date.fromisoformat(picked)
    except ValueError:
        return None, "Pick a date."
    if until <= today:
        return None, f"Pick a date after today ({today:%d %b %Y}): a snooze ends in the future."
    if until > today + LONGEST_SNOOZE:
        return None, "Pick a date within a year."
    return until, None


async def snoozable(
    services: Services, workspace_id: str, rep_id: str, slug: str
) -> KnownProspect | None:
    """The prospect a snooze control names, when the rep may see it: under
    NOTES_VISIBILITY=own a slug the rep never logged is as unknown as one that does not exist."""
    if not slug:
        return None
    return await services.index.prospect(workspace_id, slug, services.seen_by(rep_id))


async def snooze_prospect(
    services: Services, workspace_id: str, rep_id: str, slug: str, until: date | None
) -> None:
    """Quiet for this rep until `until` (its last day); None wakes it."""
    await services.index.snooze(workspace_id, rep_id, slug, until)
