"""The team view's counts, windows and message, without Slack or memory."""

from __future__ import annotations

from datetime import date, timedelta

from bot.blocks.limits import MESSAGE_BLOCKS, SECTION_TEXT
from bot.infra.memory_setup import objection_kinds
from bot.team.summary import Closes, summarize, windows
from bot.team.view import MEMORY_DOWN, TEXT_ONLY, TREND_MISSING, build_team_blocks, team_refusal
from memory.index import LoggedCall
from memory.records import FOLLOW_UP_SENT, TimelineEntry
from memory.rep_notes import RepNote
from tests.support.blocks import render

TODAY = date(2026, 11, 20)
KINDS = objection_kinds()
NOW, BEFORE = windows(TODAY)


def note(call_id: str, slug: str, day: date, kind: str) -> RepNote:
    entry = TimelineEntry(call_id, slug.title(), day, "objection", "U1", "", False, "")
    return RepNote(slug, entry, (f"objection:{kind}",))


def labelled(*notes: tuple[str, str, date, str]) -> dict[str, list[RepNote]]:
    found: dict[str, list[RepNote]] = {kind: [] for kind in KINDS}
    for call_id, slug, day, kind in notes:
        found[kind].append(note(call_id, slug, day, kind))
    return found


def calls_of(found: dict[str, list[RepNote]], outcome: str = "objection") -> list[LoggedCall]:
    """The index's rows for the labelled notes' calls (one per call)."""
    notes = {n.entry.call_id: n for kind in found.values() for n in kind}
    return [LoggedCall(i, "U1", n.slug, n.entry.call_date, outcome) for i, n in notes.items()]


def test_windows_are_the_last_four_weeks_and_the_four_before() -> None:
    assert (NOW.first, NOW.last) == (date(2026, 10, 24), TODAY)
    assert (BEFORE.first, BEFORE.last) == (date(2026, 9, 26), date(2026, 10, 23))


def test_objections_are_counted_per_call_and_deal_in_each_window_with_competitors_apart() -> None:
    found = labelled(
        ("c1", "acme", date(2026, 11, 2), "pricing"),
        ("c2", "acme", date(2026, 11, 9), "pricing"),
        ("c3", "beta", NOW.first, "pricing"),
        ("c4", "beta", BEFORE.last, "pricing"),  # the day before the window: before
        ("c5", "gamma", date(2026, 10, 1), "security_compliance"),
        ("c6", "gamma", date(2026, 10, 8), "security_compliance"),
        ("c7", "delta", date(2026, 11, 1), "legal"),
        ("c8", "delta", date(2026, 10, 2), "legal"),
        ("c9", "delta", date(2026, 11, 1), "competitor"),
        ("c9", "delta", date(2026, 11, 1), "legal"),  # one call, two facts: counted once
        ("c0", "omega", BEFORE.first - timedelta(days=1), "timing"),  # older: not counted
    )
    calls = calls_of(found)
    view = summarize(calls, found, {}, {}, TODAY, KINDS)
    shown = {t.kind: (t.calls_now, t.deals_now, t.calls_before) for t in view.objections}
    assert shown == {
        "pricing": (3, 2, 1),
        "security_compliance": (0, 0, 2),
        "legal": (2, 1, 1),
    }
    assert [t.kind for t in view.objections] == ["pricing", "legal", "security_compliance"]
    assert view.competitor is not None
    assert (view.competitor.calls_now, view.competitor.calls_before) == (1, 0)

    rendered = render(build_team_blocks(view)[1])
    assert "• *Pricing* — 3 calls (2 deals) ↑ from 1" in rendered
    assert "• *Security/compliance* — 0 calls ↓ from 2" in rendered
    assert "• *Legal* — 2 calls (1 deal) ↑ from 1" in rendered
    assert "• *Competitors* — 1 call (1 deal) ↑ from 0" in rendered
    assert "Timing" not in rendered


def test_closes_count_by_the_last_objection_raised_before_them() -> None:
    rows = [
        ("a1", "U1", "acme", date(2026, 10, 1), "objection"),
        ("a2", "U1", "acme", date(2026, 11, 1), "objection"),
        ("a3", "U1", "acme", date(2026, 11, 10), "closed_won"),
        ("a4", "U1", "acme", date(2026, 11, 12), FOLLOW_UP_SENT),  # an email after: still won
        ("b1", "U2", "beta", date(2026, 11, 14), "objection"),
        ("b2", "U2", "beta", date(2026, 11, 15), "closed_lost"),
        ("b3", "U2", "beta", date(2026, 11, 18), FOLLOW_UP_SENT),
        ("g1", "U2", "gamma", date(2026, 10, 1), "closed_lost"),  # the 4 weeks before
        ("o1", "U2", "old", BEFORE.first - timedelta(days=1), "closed_won"),  # too old
        ("r1", "U1", "again", date(2026, 10, 20), "closed_lost"),  # lost, reopened, won
        ("r2", "U1", "again", date(2026, 11, 2), "positive"),
        ("r3", "U1", "again", date(2026, 11, 19), "closed_won"),
        ("t1", "U1", "tie", date(2026, 11, 5), "positive"),  # same day: the close wins
        ("t2", "U1", "tie", date(2026, 11, 5), "closed_won"),
        ("z1", "U3", "zone", TODAY + timedelta(days=1), "closed_lost"),  # a zone ahead: now
    ]
    calls = [LoggedCall(*row) for row in rows]
    found = labelled(
        ("a1", "acme", date(2026, 10, 1), "security_compliance"),
        ("a2", "acme", date(2026, 11, 1), "pricing"),  # acme's last objection
        ("b1", "beta", date(2026, 11, 14), "legal"),
        ("b1", "beta", date(2026, 11, 14), "competitor"),
        ("b3", "beta", date(2026, 11, 18), "pricing"),  # an email: not a call, not counted
        ("x1", "forgotten", date(2026, 11, 3), "pricing"),  # not in the index: not counted
    )
    view = summarize(calls, found, {}, {}, TODAY, KINDS)
    assert view.won == (3, 0) and view.lost == (2, 1)
    assert view.closes == (
        Closes("competitor", 0, 1),
        Closes("legal", 0, 1),
        Closes("pricing", 1, 0),
        Closes(None, 2, 2),  # again, tie / gamma, zone: no objection recorded
    )
    assert [(t.kind, t.calls_now) for t in view.objections] == [
        ("pricing", 1),
        ("legal", 1),
        ("security_compliance", 0),
    ]
    assert (view.calls_now, view.calls_before) == (9, 3)  # the emails are not calls
    assert view.quiet == ()  # closed deals, an email after a close included, are not quiet
    rendered = render(build_team_blocks(view)[1])
    assert "Won 3 ↑ from 0 · lost 2 ↑ from 1" in rendered
    assert "• *Pricing* — won 1 · lost 0" in rendered
    assert "• *No objection recorded* — won 2 · lost 2" in rendered


def test_quiet_deals_are_counted_per_rep_against_each_deals_rhythm() -> None:
    weekly = [date(2026, 10, 1) + timedelta(days=7 * n) for n in range(5)]  # last 29 Oct
    calls = [LoggedCall(f"w{n}", "U1", "wendy", day, "positive") for n, day in enumerate(weekly)]
    calls += [
        LoggedCall("s1", "U1", "sally", date(2026, 10, 1), "positive"),
        LoggedCall("z1", "U1", "snoozy", date(2026, 9, 1), "positive"),
        LoggedCall("c1", "U1", "won", date(2026, 9, 1), "closed_won"),
        LoggedCall("f1", "U2", "fresh", date(2026, 11, 19), "positive"),
        LoggedCall("s2", "U3", "sally", date(2026, 9, 20), "positive"),  # shared with U1
    ]
    names = {"wendy": "Weekly Wendy", "sally": "Slow Sally", "snoozy": "Snoozy", "won": "Won"}
    snoozes = {"U1": {"snoozy": date(2026, 12, 1)}}
    view = summarize(calls, None, names, snoozes, TODAY, KINDS, TEXT_ONLY)
    assert [(r.rep_id, [d.slug for d in r.deals]) for r in view.quiet] == [
        ("U1", ["sally", "wendy"]),
        ("U3", ["sally"]),
    ]
    assert view.reps_checked == 3
    rendered = render(build_team_blocks(view)[1])
    assert "<@U1> — 2 quiet deals; most overdue 50 days silent (usually every 11)" in rendered
    assert ": Slow Sally, Weekly Wendy" in rendered
    assert "1 other rep: no quiet deal" in rendered
    # Without labels the trends are missing, said so, and closes are counted without kinds.
    assert view.objections == () and view.competitor is None and view.closes == ()
    assert TREND_MISSING[TEXT_ONLY] in rendered

    hidden = summarize(calls, None, names, snoozes, TODAY, KINDS, MEMORY_DOWN, names_shown=False)
    rendered = render(build_team_blocks(hidden)[1])
    assert "Slow Sally" not in rendered and "<@U1> — 2 quiet deals" in rendered
    assert TREND_MISSING[MEMORY_DOWN] in rendered


def test_a_large_team_fits_one_message() -> None:
    calls = [
        LoggedCall(f"c{rep}-{n}", f"U{rep:03}", f"deal-{rep}-{n}", date(2026, 8, 1), "positive")
        for rep in range(200)
        for n in range(30)
    ]
    names = {c.slug: "Prospect With A Rather Long Name " + c.slug for c in calls}
    found = labelled(*((f"c{n}", f"deal-{n}-0", date(2026, 11, 1), k) for n, k in enumerate(KINDS)))
    view = summarize(calls, found, names, {}, TODAY, KINDS)
    text, blocks = build_team_blocks(view)
    assert len(blocks) <= MESSAGE_BLOCKS
    for block in blocks:
        assert len(block.get("text", {}).get("text", "")) <= SECTION_TEXT
    rendered = render(blocks)
    assert "…and 180 more reps." in rendered
    assert "<@U000> — 30 quiet deals" in rendered and "and 27 more" in rendered
    assert text.startswith("Team view: 24 Oct – 20 Nov")


def test_nothing_to_show_says_so() -> None:
    view = summarize([], labelled(), {}, {}, TODAY, KINDS)
    rendered = render(build_team_blocks(view)[1])
    assert "Memory found no objection in these 8 weeks of notes" in rendered
    assert "No deal has gone quiet" in rendered
    assert "0 calls logged by 0 reps" in rendered


def test_the_refusal_names_who_may_and_what_slack_said() -> None:
    assert "admins and owners." in team_refusal(None, [])
    said = team_refusal("@sales-managers", ["the user group's listing answered `missing_scope`"])
    assert "members of the user group @sales-managers" in said
    assert "`missing_scope`" in said and "usergroups:read" in said
    said = team_refusal(None, ["`users.info` answered `ratelimited`"])
    assert "Slack could not tell: `users.info` answered `ratelimited`. Try again" in said
    assert "usergroups:read" not in said
