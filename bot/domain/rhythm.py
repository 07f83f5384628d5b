"""A deal's rhythm and when it has gone quiet: shared by quiet-deal alerts and the team view.

A deal's rhythm is the median gap between its calls, kept within sensible bounds (a deal
called daily is not quiet after two days; one called every quarter is still worth a nudge
after six weeks); a deal with one call gets the default. Snoozed and closed deals are never
quiet.
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass
from datetime import date

from memory.records import CLOSED, FOLLOW_UP_SENT

SHORTEST_RHYTHM = 7  # days
LONGEST_RHYTHM = 45
DEFAULT_RHYTHM = 14  # a deal with a single call


def rhythm(call_dates: list[date]) -> int:
    """The deal's usual gap between calls in days: the median gap, within the bounds."""
    days = sorted(set(call_dates))
    if len(days) < 2:
        return DEFAULT_RHYTHM
    gaps = [(later - earlier).days for earlier, later in itertools.pairwise(days)]
    return max(SHORTEST_RHYTHM, min(LONGEST_RHYTHM, round(statistics.median(gaps))))


def standing(calls: list[tuple[date, str]]) -> tuple[date, str | None]:
    """A deal's last contact (a follow-up email counts) and the outcome of its latest call
    (a follow-up email is not a call; a close wins a tie on its day). None: no call yet."""
    last_contact = max(day for day, _ in calls)
    real = [(day, outcome) for day, outcome in calls if outcome != FOLLOW_UP_SENT]
    if not real:
        return last_contact, None
    last_day = max(day for day, _ in real)
    outcomes = sorted(outcome for day, outcome in real if day == last_day)
    return last_contact, next((o for o in CLOSED if o in outcomes), outcomes[0])


@dataclass(frozen=True)
class QuietDeal:
    slug: str
    name: str
    silence: int  # days since the last contact (a call or a follow-up email)
    rhythm: int


def quiet_deals(
    history: dict[str, list[tuple[date, str]]],
    names: dict[str, str],
    today: date,
    snoozed: dict[str, date],
) -> list[QuietDeal]:
    """The deals whose silence has passed their rhythm, the longest overdue first."""
    quiet = []
    for slug, calls in history.items():
        if not calls or slug in snoozed:
            continue
        last_contact, outcome = standing(calls)
        if outcome in CLOSED:
            continue
        usual = rhythm([day for day, kind in calls if kind != FOLLOW_UP_SENT])
        silence = (today - last_contact).days
        if silence > usual:
            quiet.append(QuietDeal(slug, names.get(slug, slug), silence, usual))
    return sorted(quiet, key=lambda d: (-(d.silence / d.rhythm), d.name.lower()))
