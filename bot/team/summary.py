"""The team view for managers: trends across the workspace, never a rep's note text.

For the last four weeks against the four before: the kinds of objection raised (counted from
the facts memory labelled `objection:<kind>` in the workspace's notes) and how often
competitors came up; the deals gone quiet per rep (each against its own rhythm, as the alerts
measure it); and the deals closed won or lost, by the last objection raised on them. Only
counts, rep mentions and (when notes are team memory) prospect names leave this module.

In chunks mode memory labels nothing, and when memory is down it cannot be listed: the view
then says so and shows what the local index alone knows (quiet deals, closes).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain.rhythm import QuietDeal, quiet_deals
from bot.infra.memory_setup import objection_kinds
from bot.services import Services
from bot.team.view import MEMORY_DOWN, REJECTED, TEXT_ONLY
from memory.index import LoggedCall
from memory.records import CLOSED, FOLLOW_UP_SENT
from memory.rep_notes import RepNote
from memory.store import MemoryRejected, MemoryUnavailable

logger = logging.getLogger(__name__)

WINDOW_DAYS = 28
COMPETITOR = "competitor"
# How far back before a close its last objection is looked for.
CLOSE_LOOKBACK_DAYS = 2 * WINDOW_DAYS
# Why objection trends are missing.


@dataclass(frozen=True)
class Window:
    first: date
    last: date  # inclusive

    def holds(self, day: date) -> bool:
        return self.first <= day <= self.last


@dataclass(frozen=True)
class Trend:
    """How often one kind of objection came up: calls (and deals) now, calls before."""

    kind: str
    calls_now: int
    deals_now: int
    calls_before: int


@dataclass(frozen=True)
class RepQuiet:
    rep_id: str
    deals: tuple[QuietDeal, ...]  # the longest overdue first


@dataclass(frozen=True)
class Closes:
    """Deals closed in both windows whose last objection was `kind` (None: none recorded)."""

    kind: str | None
    won: int
    lost: int


@dataclass(frozen=True)
class TeamView:
    now: Window
    before: Window
    calls_now: int
    calls_before: int
    reps_now: int
    objections: tuple[Trend, ...]  # most raised first; competitors are apart
    competitor: Trend | None  # None when trends are missing
    trends_missing: str | None  # TEXT_ONLY, MEMORY_DOWN, REJECTED or None
    quiet: tuple[RepQuiet, ...]  # reps with a quiet deal, most first
    reps_checked: int
    closes: tuple[Closes, ...]  # by last objection (empty when trends are missing)
    won: tuple[int, int]  # (now, before)
    lost: tuple[int, int]
    names_shown: bool  # prospect names may be shown (notes are team memory)


@dataclass(frozen=True)
class ObjectionCall:
    """A call in which memory found objections of these kinds (no text)."""

    slug: str
    call_date: date
    kinds: frozenset[str]


def windows(today: date) -> tuple[Window, Window]:
    """The last four weeks up to `today`, and the four weeks before them."""
    now = Window(today - timedelta(days=WINDOW_DAYS - 1), today)
    before = Window(now.first - timedelta(days=WINDOW_DAYS), now.first - timedelta(days=1))
    return now, before


def _period(day: date, now: Window, before: Window) -> str | None:
    """ "now", "before" or None. A date after `today` is now: a rep whose zone is ahead of
    the manager's can log tomorrow's date."""
    if day >= now.first:
        return "now"
    return "before" if before.holds(day) else None


def objection_calls(
    labelled: dict[str, list[RepNote]], call_ids: set[str]
) -> dict[str, ObjectionCall]:
    """Per call id, the kinds of objection memory found in it (from one listing per kind);
    only the calls in `call_ids` (calls the index knows: not forgotten, not emails)."""
    kinds: dict[str, set[str]] = defaultdict(set)
    where: dict[str, tuple[str, date]] = {}
    for kind, notes in labelled.items():
        for note in notes:
            if note.entry.call_id in call_ids:
                kinds[note.entry.call_id].add(kind)
                where[note.entry.call_id] = (note.slug, note.entry.call_date)
    return {
        call_id: ObjectionCall(where[call_id][0], where[call_id][1], frozenset(found))
        for call_id, found in kinds.items()
    }


def _trend(kind: str, found: Iterable[ObjectionCall], now: Window, before: Window) -> Trend:
    raised = [call for call in found if kind in call.kinds]
    in_now = [call for call in raised if _period(call.call_date, now, before) == "now"]
    return Trend(
        kind,
        len(in_now),
        len({call.slug for call in in_now}),
        sum(1 for call in raised if before.holds(call.call_date)),
    )


def _histories(calls: list[LoggedCall]) -> dict[str, dict[str, list[tuple[date, str]]]]:
    """For each rep, every entry (anyone's) on each prospect they logged: the alerts' view."""
    by_slug: dict[str, list[tuple[date, str]]] = defaultdict(list)
    slugs_of: dict[str, set[str]] = defaultdict(set)
    for call in calls:
        by_slug[call.slug].append((call.call_date, call.outcome))
        slugs_of[call.rep_id].add(call.slug)
    return {rep: {slug: by_slug[slug] for slug in slugs} for rep, slugs in slugs_of.items()}


def _last_objection(found: list[ObjectionCall], closed_on: date) -> frozenset[str]:
    """The kinds raised in the newest call with an objection up to the close (within the
    lookback); empty when none was recorded."""
    earliest = closed_on - timedelta(days=CLOSE_LOOKBACK_DAYS)
    before_close = [c for c in found if earliest <= c.call_date <= closed_on]
    if not before_close:
        return frozenset()
    newest = max(c.call_date for c in before_close)
    return frozenset().union(*(c.kinds for c in before_close if c.call_date == newest))


def _closes(
    calls: list[LoggedCall], now: Window, before: Window
) -> dict[str, tuple[date, str, str]]:
    """Per deal closed in the two windows: the day, the result and the window of its last
    close (a deal lost, reopened and won counts once, as won; a close wins a tie)."""
    closed: dict[str, tuple[date, str, str]] = {}
    for call in calls:
        period = _period(call.call_date, now, before)
        if call.outcome not in CLOSED or period is None:
            continue
        seen = closed.get(call.slug)
        later = seen is None or call.call_date > seen[0]
        tie_won = seen is not None and call.call_date == seen[0] and call.outcome == CLOSED[0]
        if later or tie_won:
            closed[call.slug] = (call.call_date, call.outcome, period)
    return closed


def _objection_trends(
    found: Iterable[ObjectionCall], kinds: list[str], now: Window, before: Window
) -> tuple[Trend, ...]:
    """Each kind of objection raised in either window (competitors apart), most raised first."""
    found = list(found)
    trends = [_trend(kind, found, now, before) for kind in kinds]
    return tuple(
        sorted(
            (t for t in trends if t.kind != COMPETITOR and (t.calls_now or t.calls_before)),
            key=lambda t: (-t.calls_now, -t.calls_before, kinds.index(t.kind)),
        )
    )


def _quiet(
    histories: dict[str, dict[str, list[tuple[date, str]]]],
    names: dict[str, str],
    today: date,
    snoozes: dict[str, dict[str, date]],
) -> tuple[RepQuiet, ...]:
    """Per rep, the deals gone quiet (the rep with most first)."""
    quiet = []
    for rep, history in histories.items():
        deals = quiet_deals(history, names, today, snoozes.get(rep, {}))
        if deals:
            quiet.append(RepQuiet(rep, tuple(deals)))
    quiet.sort(key=lambda r: (-len(r.deals), r.rep_id))
    return tuple(quiet)


def _close_counts(
    real: list[LoggedCall],
    found: Iterable[ObjectionCall],
    now: Window,
    before: Window,
    by_objection: bool,
) -> tuple[tuple[Closes, ...], Counter[str], Counter[str]]:
    """The deals closed, by the last objection raised on them (when `by_objection`), and
    the counts won and lost per window."""
    objections_of: dict[str, list[ObjectionCall]] = defaultdict(list)
    for raised in found:
        objections_of[raised.slug].append(raised)
    won, lost = Counter[str](), Counter[str]()
    by_kind: dict[str | None, list[int]] = defaultdict(lambda: [0, 0])
    for slug, (closed_on, outcome, period) in _closes(real, now, before).items():
        is_won = outcome == CLOSED[0]
        (won if is_won else lost)[period] += 1
        if not by_objection:
            continue
        last_kinds: list[str | None] = []
        last_kinds += sorted(_last_objection(objections_of[slug], closed_on))
        for kind in last_kinds or [None]:
            by_kind[kind][0 if is_won else 1] += 1
    closes = tuple(
        sorted(
            (Closes(kind, w, lost_) for kind, (w, lost_) in by_kind.items()),
            key=lambda c: (c.kind is None, -(c.won + c.lost), c.kind or ""),
        )
    )
    return closes, won, lost


def summarize(
    calls: list[LoggedCall],
    labelled: dict[str, list[RepNote]] | None,
    names: dict[str, str],
    snoozes: dict[str, dict[str, date]],
    today: date,
    kinds: list[str],
    trends_missing: str | None = None,
    names_shown: bool = True,
) -> TeamView:
    """The team view from the workspace's calls, the notes memory labelled with each kind of
    objection (None when memory could not give them; `trends_missing` says why), the
    prospects' names and each rep's snoozes, on the manager's `today`. A follow-up email
    logged as sent is contact for the quiet deals, but not a call: it is not counted, nor
    its objections."""
    now, before = windows(today)
    real = [call for call in calls if call.outcome != FOLLOW_UP_SENT]
    found = objection_calls(labelled or {}, {call.call_id for call in real})
    objections: tuple[Trend, ...] = ()
    competitor = None
    if labelled is not None:
        objections = _objection_trends(found.values(), kinds, now, before)
        competitor = _trend(COMPETITOR, found.values(), now, before)
    histories = _histories(calls)
    quiet = _quiet(histories, names, today, snoozes)
    closes, won, lost = _close_counts(real, found.values(), now, before, labelled is not None)
    periods = [(_period(call.call_date, now, before), call.rep_id) for call in real]
    return TeamView(
        now=now,
        before=before,
        calls_now=sum(1 for period, _ in periods if period == "now"),
        calls_before=sum(1 for period, _ in periods if period == "before"),
        reps_now=len({rep for period, rep in periods if period == "now"}),
        objections=objections,
        competitor=competitor,
        trends_missing=None if labelled is not None else trends_missing,
        quiet=quiet,
        reps_checked=len(histories),
        closes=closes,
        won=(won["now"], won["before"]),
        lost=(lost["now"], lost["before"]),
        names_shown=names_shown,
    )


async def labelled_notes(
    services: Services, workspace_id: str, since: date, kinds: list[str]
) -> tuple[dict[str, list[RepNote]] | None, str | None]:
    """The workspace's notes memory labelled with each kind of objection since `since`
    (one listing per kind, two at a time), or None and why not."""
    try:
        if not await services.memory.reasons():
            return None, TEXT_ONLY
    except MemoryUnavailable:
        logger.warning("Memory unavailable: the team view has no objection trends", exc_info=True)
        return None, MEMORY_DOWN
    semaphore = asyncio.Semaphore(2)

    async def listed(kind: str) -> list[RepNote]:
        async with semaphore:
            return await services.memory.labelled_notes(workspace_id, f"objection:{kind}", since)

    missing = None
    try:
        # The first failure cancels the other listings.
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(listed(kind)) for kind in kinds]
    except* MemoryUnavailable as failures:
        refused = any(isinstance(e, MemoryRejected) for e in failures.exceptions)
        missing = REJECTED if refused else MEMORY_DOWN
        logger.warning("The team view has no objection trends (%s)", missing, exc_info=True)
    if missing is not None:
        return None, missing
    return {kind: task.result() for kind, task in zip(kinds, tasks, strict=True)}, None


async def team_view(services: Services, workspace_id: str, today: date) -> TeamView:
    """The workspace's team view on the manager's `today`."""
    kinds = objection_kinds()
    _, before = windows(today)
    since = before.first - timedelta(days=CLOSE_LOOKBACK_DAYS)
    labelled, missing = await labelled_notes(services, workspace_id, since, kinds)
    # Read after memory: a prospect forgotten meanwhile has left the index, and its notes
    # still listed are left out (only the index's call ids count).
    calls = await services.index.workspace_calls(workspace_id)
    known = await services.index.known_prospects(workspace_id)
    snoozes = await services.index.snoozes_by_rep(workspace_id, today)
    # A large workspace's calls take a second of counting: off the event loop, so the acks
    # of other requests are not held meanwhile.
    return await asyncio.to_thread(
        summarize,
        calls,
        labelled,
        {p.slug: p.name for p in known},
        snoozes,
        today,
        kinds,
        missing,
        names_shown=services.notes_visibility == "workspace",
    )
