"""Quiet deals measured against each deal's own rhythm, without Slack."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.domain.rhythm import DEFAULT_RHYTHM, LONGEST_RHYTHM, SHORTEST_RHYTHM, quiet_deals, rhythm
from bot.quiet import alert_due, build_alert
from memory.index import DigestSetting
from memory.records import FOLLOW_UP_SENT
from tests.support.blocks import render

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


def test_the_alert_morning_is_nine_to_noon_on_a_working_day_in_the_reps_zone() -> None:
    paris = DigestSetting("T1", "U1", "Europe/Paris")
    monday_nine = datetime(2026, 11, 23, 8, 5, tzinfo=UTC)  # 09:05 in Paris
    assert alert_due(paris, monday_nine) == date(2026, 11, 23)
    # 10:05 and 11:05 too (a refused DM is tried again; the day's claim keeps it to one).
    assert alert_due(paris, monday_nine + timedelta(hours=2)) == date(2026, 11, 23)
    assert alert_due(paris, monday_nine + timedelta(hours=3)) is None
    assert alert_due(paris, monday_nine - timedelta(hours=1)) is None
    assert alert_due(paris, datetime(2026, 11, 21, 8, 5, tzinfo=UTC)) is None  # Saturday
    nowhere = DigestSetting("T1", "U1", "Not/AZone")
    assert alert_due(nowhere, datetime(2026, 11, 23, 9, 5, tzinfo=UTC)) == date(2026, 11, 23)


def test_the_alert_lists_every_quiet_deal_in_one_message_within_limits() -> None:
    from bot.domain.rhythm import QuietDeal

    deals = [QuietDeal(f"p{n}", f"<@U{n}> Deal {n}", 30 + n, 7) for n in range(30)]
    text, blocks = build_alert(deals)
    assert text == "30 deals have gone quiet"
    assert len(blocks) <= 50
    shown = render(blocks)
    assert "<@U0>" not in " ".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert "…and 10 more in Home." in shown


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
