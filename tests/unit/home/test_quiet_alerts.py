"""The quiet-deal alert: when a rep's morning is, and the one DM listing every quiet deal."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.domain.rhythm import QuietDeal
from bot.home.quiet_alerts import alert_due
from bot.home.view import build_alert
from memory.index import DigestSetting
from tests.support.blocks import render


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
    deals = [QuietDeal(f"p{n}", f"<@U{n}> Deal {n}", 30 + n, 7) for n in range(30)]
    text, blocks = build_alert(deals)
    assert text == "30 deals have gone quiet"
    assert len(blocks) <= 50
    shown = render(blocks)
    assert "<@U0>" not in " ".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert "…and 10 more in Home." in shown
