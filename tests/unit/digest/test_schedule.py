"""Digest times in each rep's own time zone, across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.digest.schedule import next_digest_time
from bot.digest.settings import DigestCommand, parse_digest_command
from memory.index import DigestSetting


def monday_8(tz: str, after: datetime) -> datetime:
    fire = next_digest_time(DigestSetting("T1", "U1", tz), after)
    assert fire is not None
    return fire.astimezone(UTC)


@pytest.mark.parametrize(
    ("tz", "before_change", "after_change"),
    [
        # US DST ends Sun 1 Nov 2026: 08:00 PDT = 15:00 UTC, then 08:00 PST = 16:00 UTC.
        (
            "America/Los_Angeles",
            datetime(2026, 10, 26, 15, tzinfo=UTC),
            datetime(2026, 11, 2, 16, tzinfo=UTC),
        ),
        # UK summer time ends Sun 25 Oct 2026: 08:00 BST = 07:00 UTC, then 08:00 GMT.
        (
            "Europe/London",
            datetime(2026, 10, 19, 7, tzinfo=UTC),
            datetime(2026, 10, 26, 8, tzinfo=UTC),
        ),
        # India has no DST: always 02:30 UTC.
        (
            "Asia/Kolkata",
            datetime(2026, 10, 19, 2, 30, tzinfo=UTC),
            datetime(2026, 10, 26, 2, 30, tzinfo=UTC),
        ),
    ],
)
def test_digest_is_monday_0800_local_on_both_sides_of_a_dst_change(
    tz: str, before_change: datetime, after_change: datetime
) -> None:
    assert monday_8(tz, before_change - timedelta(days=1)) == before_change
    assert monday_8(tz, before_change + timedelta(minutes=1)) == after_change


def test_chosen_day_and_hour_are_honoured() -> None:
    setting = DigestSetting("T1", "U1", "Asia/Kolkata", day="wed", hour=17)
    fire = next_digest_time(setting, datetime(2026, 11, 20, tzinfo=UTC))
    assert fire is not None
    assert (fire.strftime("%a %H:%M"), fire.date().isoformat()) == ("Wed 17:00", "2026-11-25")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", DigestCommand("now")),
        ("settings", DigestCommand("show")),
        ("SETTINGS Tuesday 9", DigestCommand("set", "tue", 9)),
        ("off", DigestCommand("off")),
        ("on", DigestCommand("on")),
    ],
)
def test_digest_sub_commands_are_understood(text: str, expected: DigestCommand) -> None:
    assert parse_digest_command(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [("settings tue 25", "0–23"), ("settings someday 9", "like"), ("please", "didn't understand")],
)
def test_bad_digest_sub_commands_get_a_clear_message(text: str, words: str) -> None:
    reply = parse_digest_command(text)
    assert isinstance(reply, str) and words in reply
