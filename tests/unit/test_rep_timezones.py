"""A rep's time zone is asked of Slack once, then kept; a failed answer is not kept."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.infra.rep_timezones import RepTimezones
from memory.index import DigestSetting, LocalIndex
from tests.support.fake_slack import FakeSlack


@pytest.fixture
def index(tmp_path: Path) -> Iterator[LocalIndex]:
    opened = LocalIndex.open(f"sqlite:///{tmp_path}/i.db")
    yield opened
    opened.close()


async def test_slack_is_asked_once_per_rep_and_an_enrolled_rep_not_at_all(
    index: LocalIndex, slack: tuple[FakeSlack, AsyncWebClient]
) -> None:
    fake, client = slack
    fake.timezones["U1"] = "Asia/Kolkata"
    zones = RepTimezones(index)
    assert await zones.known("T1", "U1") == (False, None)
    assert await zones.zone(client, "T1", "U1") == "Asia/Kolkata"
    assert await zones.zone(client, "T1", "U1") == "Asia/Kolkata"
    assert await zones.known("T1", "U1") == (True, "Asia/Kolkata")
    assert len(fake.called("users.info")) == 1

    await index.save_digest_setting(DigestSetting("T1", "U2", "Europe/London"))
    assert await zones.zone(client, "T1", "U2") == "Europe/London"
    assert len(fake.called("users.info")) == 1


async def test_a_zone_is_kept_for_a_while_and_for_so_many_reps(
    index: LocalIndex, slack: tuple[FakeSlack, AsyncWebClient]
) -> None:
    fake, client = slack
    expiring = RepTimezones(index, keep_seconds=0)
    await expiring.zone(client, "T1", "U1")
    await expiring.zone(client, "T1", "U1")
    assert len(fake.called("users.info")) == 2

    few = RepTimezones(index, max_reps=2)
    for rep in ("U1", "U2", "U3", "U1"):
        await few.zone(client, "T1", rep)
    assert [c["user"] for c in fake.called("users.info")[2:]] == ["U1", "U2", "U3", "U1"]


async def test_when_slack_fails_the_rep_gets_utc_now_and_slack_is_asked_again_later(
    index: LocalIndex, slack: tuple[FakeSlack, AsyncWebClient]
) -> None:
    fake, client = slack
    zones = RepTimezones(index)
    fake.errors["users.info"] = "internal_error"
    assert await zones.zone(client, "T1", "U1") is None
    del fake.errors["users.info"]
    fake.timezones["U1"] = "America/Los_Angeles"
    assert await zones.zone(client, "T1", "U1") == "America/Los_Angeles"


async def test_a_move_is_stored_for_an_enrolled_rep_only_and_never_for_an_unknown_zone(
    index: LocalIndex,
) -> None:
    zones = RepTimezones(index)
    await index.save_digest_setting(DigestSetting("T1", "U1", "Asia/Kolkata", day="fri", hour=7))
    assert await zones.moved("T1", "U1", "Asia/Kolkata") is False  # no change, no write
    assert await zones.moved("T1", "U1", "Europe/Berlin") is True
    assert await index.digest_setting("T1", "U1") == DigestSetting(
        "T1", "U1", "Europe/Berlin", day="fri", hour=7
    )
    assert await zones.moved("T1", "U1", "Not/AZone") is False
    assert await zones.known("T1", "U1") == (True, "Europe/Berlin")
    # Someone never enrolled or asked about: nothing stored, nothing cached.
    assert await zones.moved("T1", "U9", "Asia/Tokyo") is False
    assert await zones.known("T1", "U9") == (False, None)
    assert await index.digest_setting("T1", "U9") is None
