"""The period a question names ("this month", "since October", "last 2 weeks"), as dates in
the rep's own calendar. Found by the words' shape, not understood: a question naming none is
about all time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain.grounding import MONTH, month_number

_SINCE_MONTH = re.compile(rf"\b(?:since|from|after)\s+(?:early\s+)?{MONTH}(?:\s+(\d{{4}}))?", re.I)
_IN_MONTH = re.compile(rf"\b(?:in|during|over)\s+{MONTH}(?:\s+(\d{{4}}))?", re.I)
_SINCE_ISO = re.compile(r"\b(?:since|from|after)\s+(\d{4})-(\d{2})-(\d{2})\b", re.I)
_LAST_N = re.compile(r"\b(?:last|past|previous)\s+(\d{1,3})\s+(day|week|month)s?\b", re.I)
_RELATIVE = re.compile(
    r"\b(today|yesterday|(?:this|last|past|previous)\s+(?:week|month|quarter|year))\b", re.I
)


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both included, and how the rep said it."""

    start: date
    end: date
    said: str

    def holds(self, day: date | None) -> bool:
        return day is not None and self.start <= day <= self.end


def _month_end(year: int, month: int) -> date:
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    return first_of_next - timedelta(days=1)


def _latest_start(month: int, year: str | None, today: date) -> date:
    """The 1st of `month` in `year`, or its latest occurrence up to today."""
    if year:
        return date(int(year), month, 1)
    return date(today.year if month <= today.month else today.year - 1, month, 1)


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _relative(phrase: str, today: date) -> tuple[date, date]:
    """today, yesterday, this/last week, month, quarter or year."""
    words = phrase.lower().split()
    if words == ["today"]:
        return today, today
    if words == ["yesterday"]:
        return today - timedelta(days=1), today - timedelta(days=1)
    unit, current = words[-1], words[0] == "this"
    if words[0] == "past":  # a rolling span: "the past week" is the last seven days
        return _last_n(1, unit, today), today
    if unit == "week":
        monday = today - timedelta(days=today.weekday())
        return (monday, today) if current else (monday - timedelta(days=7), monday - timedelta(1))
    if unit == "month":
        first = today.replace(day=1)
        if current:
            return first, today
        before = first - timedelta(days=1)
        return before.replace(day=1), before
    if unit == "quarter":
        first = _quarter_start(today)
        if current:
            return first, today
        before = first - timedelta(days=1)
        return _quarter_start(before), before
    first = date(today.year, 1, 1)
    return (first, today) if current else (date(today.year - 1, 1, 1), first - timedelta(1))


def _last_n(count: int, unit: str, today: date) -> date:
    days = {"day": 1, "week": 7, "month": 30, "quarter": 91, "year": 365}[unit.lower()] * count
    return today - timedelta(days=max(days - 1, 0))


def find_period(question: str, today: date) -> Period | None:
    """The period `question` names, in the calendar of the rep whose today is `today`."""
    try:
        if m := _SINCE_ISO.search(question):
            return Period(date(int(m[1]), int(m[2]), int(m[3])), today, m[0])
        if m := _SINCE_MONTH.search(question):
            return Period(_latest_start(month_number(m[1]), m[2], today), today, m[0])
        if m := _IN_MONTH.search(question):
            start = _latest_start(month_number(m[1]), m[2], today)
            return Period(start, min(_month_end(start.year, start.month), today), m[0])
    except ValueError:
        return None  # "since 2026-02-31": no such day, so no period rather than a wrong one
    if m := _LAST_N.search(question):
        return Period(_last_n(int(m[1]), m[2], today), today, m[0])
    if m := _RELATIVE.search(question):
        start, end = _relative(m[1], today)
        return Period(start, end, m[0])
    return None
