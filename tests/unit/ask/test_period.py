from datetime import date

import pytest

from bot.ask.period import find_period

TODAY = date(2026, 12, 4)  # a Friday


@pytest.mark.parametrize(
    ("question", "start", "end"),
    [
        ("which deals raised SOC2 this month?", date(2026, 12, 1), TODAY),
        ("what happened last month", date(2026, 11, 1), date(2026, 11, 30)),
        ("what changed with James since October?", date(2026, 10, 1), TODAY),
        ("since oct 2025", date(2025, 10, 1), TODAY),
        ("anything in March?", date(2026, 3, 1), date(2026, 3, 31)),
        ("this week", date(2026, 11, 30), TODAY),
        ("last week", date(2026, 11, 23), date(2026, 11, 29)),
        ("the past week", date(2026, 11, 28), TODAY),
        ("in the last 14 days", date(2026, 11, 21), TODAY),
        ("today", TODAY, TODAY),
        ("yesterday", date(2026, 12, 3), date(2026, 12, 3)),
        ("last quarter", date(2026, 7, 1), date(2026, 9, 30)),
        ("this year", date(2026, 1, 1), TODAY),
        ("since 2026-11-15", date(2026, 11, 15), TODAY),
    ],
)
def test_periods_in_the_reps_calendar(question: str, start: date, end: date) -> None:
    period = find_period(question, TODAY)
    assert period is not None
    assert (period.start, period.end) == (start, end)
    assert period.holds(start) and period.holds(end)
    assert not period.holds(None)


def test_a_month_later_this_year_means_last_years() -> None:
    period = find_period("since December", date(2026, 11, 3))
    assert period is not None and period.start == date(2025, 12, 1)


@pytest.mark.parametrize(
    "question", ["what did we promise Rentokil?", "who signs off at Paysend", "since 2026-02-31"]
)
def test_no_period_is_all_time(question: str) -> None:
    assert find_period(question, TODAY) is None


def test_a_number_before_a_months_abbreviation_is_not_a_period() -> None:
    assert find_period("the 2 dec makers at Acme", TODAY) is None
