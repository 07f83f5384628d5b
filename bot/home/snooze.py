"""Snoozing a prospect: quiet until a date, then back in the ranking by itself."""

from __future__ import annotations

from datetime import date, timedelta

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
