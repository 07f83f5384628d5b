"""Snooze choices and dates, without Slack."""

from __future__ import annotations

from datetime import date

import pytest

from bot.blocks import ids
from bot.home.snooze import check_snooze_date, snooze_until
from bot.home.view import HomeState, PipelineRow, build_home_view
from memory.index import KnownProspect
from tests.support.blocks import render

TODAY = date(2026, 11, 20)


def test_menu_choices_snooze_for_a_week_two_or_a_month() -> None:
    assert snooze_until("7", TODAY) == date(2026, 11, 27)
    assert snooze_until("14", TODAY) == date(2026, 12, 4)
    assert snooze_until("30", TODAY) == date(2026, 12, 20)
    assert snooze_until("9999", TODAY) is None and snooze_until("", TODAY) is None


@pytest.mark.parametrize(
    ("picked", "problem"),
    [
        ("2026-11-19", "Pick a date after today (20 Nov 2026)"),
        ("2026-11-20", "Pick a date after today"),
        ("2028-01-01", "within a year"),
        ("not a date", "Pick a date."),
    ],
)
def test_a_snooze_date_in_the_past_or_too_far_is_refused(picked: str, problem: str) -> None:
    until, said = check_snooze_date(picked, TODAY)
    assert until is None and said is not None and problem in said


def test_a_snooze_date_ahead_is_taken() -> None:
    assert check_snooze_date("2026-12-24", TODAY) == (date(2026, 12, 24), None)


def test_a_snoozed_prospect_rests_at_the_end_of_home_and_can_be_woken() -> None:
    quiet = KnownProspect("old-olga", "Old Olga", "", date(2026, 8, 1), 2)
    busy = KnownProspect("new-nina", "New Nina", "", date(2026, 11, 19), 2)
    rows = [PipelineRow(quiet, None, date(2026, 12, 4)), PipelineRow(busy, None)]
    blocks = build_home_view(HomeState(rows, TODAY, None, None))["blocks"]
    text = render(blocks)
    assert text.index("New Nina") < text.index("Old Olga")  # silent longer, but snoozed
    assert "😴 snoozed until Fri 04 Dec" in text
    menus = [
        e
        for b in blocks
        if b.get("block_id") == f"{ids.HOME_PROSPECT_BLOCK}old-olga"
        for e in b["elements"]
        if e["type"] == "overflow"
    ]
    assert [o["value"] for o in menus[0]["options"]] == ["wake", "7", "14", "30", "date"]
