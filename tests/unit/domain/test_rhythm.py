"""Quiet deals measured against each deal's own rhythm, without Slack."""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain.rhythm import DEFAULT_RHYTHM, LONGEST_RHYTHM, SHORTEST_RHYTHM, quiet_deals, rhythm
from memory.records import FOLLOW_UP_SENT

START = date(2026, 9, 1)


def every(days: int, times: int, start: date = START) -> list[date]:
    return [start + timedelta(days=days * n) for n in range(times)]


def test_a_regular_weekly_deal_has_a_weekly_rhythm() -> None:
    assert rhythm(every(7, 6)) == 7


def test_an_irregular_deal_uses_its_median_gap() -> None:
    days = [
        START,
        START + timedelta(days=3),
        START + timedelta(days=13),
        START + timedelta(days=43),
    ]
    assert rhythm(days) == 10  # gaps 3, 10, 30


def test_a_single_call_gets_the_default_and_extremes_are_bounded() -> None:
    assert rhythm([START]) == rhythm([START, START]) == DEFAULT_RHYTHM
    assert rhythm(every(1, 10)) == SHORTEST_RHYTHM  # daily calls: not quiet after two days
    assert rhythm(every(90, 4)) == LONGEST_RHYTHM  # quarterly: still a nudge after six weeks


def test_quiet_means_past_the_deals_own_rhythm_snoozed_and_closed_left_out() -> None:
    today = date(2026, 11, 20)
    history = {
        "weekly": [(d, "positive") for d in every(7, 5, date(2026, 10, 1))],  # last 29 Oct
        "monthly": [(d, "neutral") for d in every(30, 3, date(2026, 9, 1))],  # last 31 Oct
        "fresh": [(date(2026, 11, 18), "positive")],
        "snoozed": [(date(2026, 9, 1), "neutral")],
        "closed": [(date(2026, 9, 1), "closed_won")],
    }
    names = {slug: slug.title() for slug in history}
    quiet = quiet_deals(history, names, today, {"snoozed": date(2026, 12, 1)})
    assert [(d.slug, d.silence, d.rhythm) for d in quiet] == [("weekly", 22, 7)]


def test_a_follow_up_email_is_contact_but_not_a_call_and_a_close_wins_its_day() -> None:
    today = date(2026, 11, 20)
    history = {
        "won": [(date(2026, 9, 1), "closed_won"), (date(2026, 9, 3), FOLLOW_UP_SENT)],
        "tie": [(date(2026, 9, 1), "positive"), (date(2026, 9, 1), "closed_lost")],
        "emailed": [
            (date(2026, 10, 1), "positive"),
            (date(2026, 10, 8), "positive"),
            (date(2026, 11, 16), FOLLOW_UP_SENT),
        ],
        "slow": [
            (date(2026, 10, 1), "positive"),
            (date(2026, 10, 21), "positive"),
            (date(2026, 10, 23), FOLLOW_UP_SENT),
        ],
    }
    names = {slug: slug.title() for slug in history}
    quiet = quiet_deals(history, names, today, {})
    # Only "slow": 28 days since the email, against the 20 days between its calls.
    assert [(d.slug, d.silence, d.rhythm) for d in quiet] == [("slow", 28, 20)]
