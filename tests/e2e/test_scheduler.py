"""The Monday scheduler, run at injected instants: each rep at their own 08:00."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.calls import log_call
from bot.digest_delivery import Delivery
from bot.scheduler import DigestScheduler
from bot.services import Services
from memory.index import DigestSetting
from tests.e2e.test_brief import call
from tests.support.fake_slack import TEAM_ID, FakeSlack

LA, KOLKATA = "U0LA", "U0KOL"
# Monday 23 Nov 2026: 08:00 in Kolkata is 02:30 UTC; 08:00 in Los Angeles is 16:00 UTC.
KOLKATA_MONDAY_8 = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
LA_MONDAY_8 = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)


@pytest.fixture
async def scheduled(
    services: Services, fake_slack: FakeSlack, tmp_path: Path
) -> AsyncIterator[tuple[DigestScheduler, str]]:
    for n, rep in enumerate((LA, KOLKATA)):
        note = call(
            "Marcus Webb" if rep == LA else "Anika Patel",
            date(2026, 11, 16),
            "positive",
            "Moving.",
            n,
        )
        await log_call(services, replace(note, rep_id=rep))
    await services.index.save_digest_setting(DigestSetting(TEAM_ID, LA, "America/Los_Angeles"))
    await services.index.save_digest_setting(DigestSetting(TEAM_ID, KOLKATA, "Asia/Kolkata"))
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)
    db_url = f"sqlite:///{tmp_path / 'jobs.db'}"
    scheduler = DigestScheduler(services, client, db_url)
    await scheduler.start(paused=True)  # nothing fires by itself: the test says when "now" is
    yield scheduler, db_url
    scheduler.shutdown()


def dm_channels(slack: FakeSlack) -> list[str]:
    return [c["channel"] for c in slack.called("chat.postMessage")]


async def test_each_rep_gets_the_digest_at_their_own_monday_0800(
    scheduled: tuple[DigestScheduler, str], fake_slack: FakeSlack
) -> None:
    scheduler, _ = scheduled
    assert await scheduler.run_due(datetime(2026, 11, 23, 1, 0, tzinfo=UTC)) == {}
    assert await scheduler.run_due(KOLKATA_MONDAY_8) == {KOLKATA: Delivery.SENT}
    assert dm_channels(fake_slack) == [f"D{KOLKATA}"]
    assert await scheduler.run_due(LA_MONDAY_8) == {LA: Delivery.SENT}
    assert dm_channels(fake_slack) == [f"D{KOLKATA}", f"D{LA}"]


async def test_restarting_neither_loses_nor_doubles_schedules(
    scheduled: tuple[DigestScheduler, str], services: Services, fake_slack: FakeSlack
) -> None:
    scheduler, db_url = scheduled
    jobs = sorted(j.id for j in scheduler.scheduler.get_jobs(jobstore="default"))
    assert jobs == [f"digest:{TEAM_ID}:{KOLKATA}", f"digest:{TEAM_ID}:{LA}"]
    scheduler.shutdown()

    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)
    restarted = DigestScheduler(services, client, db_url)
    await restarted.start(paused=True)
    try:
        assert sorted(j.id for j in restarted.scheduler.get_jobs(jobstore="default")) == jobs
        assert await restarted.run_due(KOLKATA_MONDAY_8) == {KOLKATA: Delivery.SENT}
        assert len(fake_slack.called("chat.postMessage")) == 1
    finally:
        restarted.shutdown()


async def test_a_rep_who_left_is_unscheduled_and_the_others_still_get_theirs(
    scheduled: tuple[DigestScheduler, str], services: Services, fake_slack: FakeSlack
) -> None:
    scheduler, _ = scheduled
    await services.index.save_digest_setting(DigestSetting(TEAM_ID, "U0GONE", "Asia/Kolkata"))
    fake_slack.gone_users.add("U0GONE")
    outcomes = await scheduler.run_due(KOLKATA_MONDAY_8)
    assert outcomes == {"U0GONE": Delivery.REP_GONE, KOLKATA: Delivery.SENT}
    assert await services.index.digest_setting(TEAM_ID, "U0GONE") is None
    assert scheduler.scheduler.get_job(f"digest:{TEAM_ID}:U0GONE") is None
    assert dm_channels(fake_slack) == [f"D{KOLKATA}"]


async def test_a_rep_who_turned_the_digest_off_gets_none(
    scheduled: tuple[DigestScheduler, str], services: Services, fake_slack: FakeSlack
) -> None:
    scheduler, _ = scheduled
    await services.index.save_digest_setting(
        DigestSetting(TEAM_ID, KOLKATA, "Asia/Kolkata", enabled=False)
    )
    assert await scheduler.run_due(KOLKATA_MONDAY_8) == {}
    assert fake_slack.called("chat.postMessage") == []
