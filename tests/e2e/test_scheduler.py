"""The Monday scheduler, run at injected instants: each rep at their own 08:00."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_sdk.web.async_client import AsyncWebClient

from bot.digest.delivery import Delivery
from bot.log.calls import log_call
from bot.scheduler import Scheduler
from bot.services import Services
from memory.index import DigestSetting, KeptDraft
from memory.store import ProspectMemory
from tests.e2e.conftest import start_bot
from tests.e2e.test_brief import call
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.waiting import eventually

LA, KOLKATA = "U0LA", "U0KOL"
# Monday 23 Nov 2026: 08:00 in Kolkata is 02:30 UTC; 08:00 in Los Angeles is 16:00 UTC.
KOLKATA_MONDAY_8 = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
LA_MONDAY_8 = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
# What job stores written by every version so far hold for a digest or its retry.
STORED_REFERENCE = "bot.scheduler:run_digest_job"


@pytest.fixture
async def scheduled(
    services: Services, fake_slack: FakeSlack, tmp_path: Path
) -> AsyncIterator[tuple[Scheduler, str]]:
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
    scheduler = Scheduler(services, client, db_url)
    await scheduler.start(paused=True)  # nothing fires by itself: the test says when "now" is
    yield scheduler, db_url
    scheduler.shutdown()


def dm_channels(slack: FakeSlack) -> list[str]:
    return [c["channel"] for c in slack.called("chat.postMessage")]


async def test_each_rep_gets_the_digest_at_their_own_monday_0800(
    scheduled: tuple[Scheduler, str], fake_slack: FakeSlack
) -> None:
    scheduler, _ = scheduled
    assert await scheduler.digests.run_due(datetime(2026, 11, 23, 1, 0, tzinfo=UTC)) == {}
    assert await scheduler.digests.run_due(KOLKATA_MONDAY_8) == {KOLKATA: Delivery.SENT}
    assert dm_channels(fake_slack) == [f"D{KOLKATA}"]
    assert await scheduler.digests.run_due(LA_MONDAY_8) == {LA: Delivery.SENT}
    assert dm_channels(fake_slack) == [f"D{KOLKATA}", f"D{LA}"]


async def test_restarting_neither_loses_nor_doubles_schedules(
    scheduled: tuple[Scheduler, str], services: Services, fake_slack: FakeSlack
) -> None:
    scheduler, db_url = scheduled
    jobs = sorted(j.id for j in scheduler.scheduler.get_jobs(jobstore="default"))
    assert jobs == [f"digest:{TEAM_ID}:{KOLKATA}", f"digest:{TEAM_ID}:{LA}"]
    scheduler.shutdown()

    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)
    restarted = Scheduler(services, client, db_url)
    await restarted.start(paused=True)
    try:
        assert sorted(j.id for j in restarted.scheduler.get_jobs(jobstore="default")) == jobs
        assert await restarted.digests.run_due(KOLKATA_MONDAY_8) == {KOLKATA: Delivery.SENT}
        assert len(fake_slack.called("chat.postMessage")) == 1
    finally:
        restarted.shutdown()


async def test_one_place_registers_every_job_and_digests_keep_their_stored_reference(
    scheduled: tuple[Scheduler, str],
) -> None:
    scheduler, _ = scheduled
    periodic = {j.id: str(j.trigger) for j in scheduler.scheduler.get_jobs(jobstore="memory")}
    assert periodic == {
        "digest-sync": "interval[0:05:00]",
        "tidy": "cron[minute='35']",
        "quiet-alerts": "cron[minute='5']",
    }
    # The import path a job store keeps: jobs stored by earlier versions name the same one.
    digests = scheduler.scheduler.get_jobs(jobstore="default")
    assert [j.func_ref for j in digests] == [STORED_REFERENCE] * 2


async def test_a_retry_stored_by_an_earlier_version_loads_and_sends_the_digest(
    scheduled: tuple[Scheduler, str], services: Services, fake_slack: FakeSlack
) -> None:
    scheduler, db_url = scheduled
    scheduler.shutdown()
    store = SQLAlchemyJobStore(url=db_url, tablename="digest_jobs")
    writer = AsyncIOScheduler(jobstores={"default": store}, timezone=UTC)
    writer.start(paused=True)
    writer.add_job(
        STORED_REFERENCE,
        "date",
        run_date=KOLKATA_MONDAY_8 + timedelta(minutes=5),
        args=[TEAM_ID, KOLKATA, "2026-11-23"],
        id=f"digest-retry:{TEAM_ID}:{KOLKATA}",
    )
    writer.shutdown(wait=False)

    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)
    back = Scheduler(services, client, db_url)
    await back.start(paused=True)
    try:
        retry = back.digests.retry_job(TEAM_ID, KOLKATA)
        assert retry is not None and retry.func_ref == STORED_REFERENCE
        await retry.func(*retry.args)
        assert back.digests.retry_job(TEAM_ID, KOLKATA) is None
    finally:
        back.shutdown()
    assert dm_channels(fake_slack) == [f"D{KOLKATA}"]
    assert await services.index.digest_run_status(TEAM_ID, KOLKATA, "2026-11-23") == "sent"


async def test_a_rep_who_left_is_unscheduled_and_the_others_still_get_theirs(
    scheduled: tuple[Scheduler, str], services: Services, fake_slack: FakeSlack
) -> None:
    scheduler, _ = scheduled
    await services.index.save_digest_setting(DigestSetting(TEAM_ID, "U0GONE", "Asia/Kolkata"))
    fake_slack.gone_users.add("U0GONE")
    outcomes = await scheduler.digests.run_due(KOLKATA_MONDAY_8)
    assert outcomes == {"U0GONE": Delivery.REP_GONE, KOLKATA: Delivery.SENT}
    assert await services.index.digest_setting(TEAM_ID, "U0GONE") is None
    assert scheduler.scheduler.get_job(f"digest:{TEAM_ID}:U0GONE") is None
    assert dm_channels(fake_slack) == [f"D{KOLKATA}"]


async def test_a_rep_who_turned_the_digest_off_gets_none(
    scheduled: tuple[Scheduler, str], services: Services, fake_slack: FakeSlack
) -> None:
    scheduler, _ = scheduled
    await services.index.save_digest_setting(
        DigestSetting(TEAM_ID, KOLKATA, "Asia/Kolkata", enabled=False)
    )
    assert await scheduler.digests.run_due(KOLKATA_MONDAY_8) == {}
    assert fake_slack.called("chat.postMessage") == []


async def test_two_schedulers_at_the_same_instant_send_each_digest_once(
    scheduled: tuple[Scheduler, str], services: Services, fake_slack: FakeSlack
) -> None:
    scheduler, db_url = scheduled
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)
    second = Scheduler(services, client, db_url)
    await second.start(paused=True)
    try:
        first_run, second_run = await asyncio.gather(
            scheduler.digests.run_due(KOLKATA_MONDAY_8), second.digests.run_due(KOLKATA_MONDAY_8)
        )
    finally:
        second.shutdown()
    assert {**first_run, **second_run} == {KOLKATA: Delivery.SENT}
    assert dm_channels(fake_slack) == [f"D{KOLKATA}"]
    # Restarted later the same morning: this period was sent, so nothing goes again.
    assert await scheduler.digests.run_due(KOLKATA_MONDAY_8) == {}
    assert await services.index.digest_run_status(TEAM_ID, KOLKATA, "2026-11-23") == "sent"


async def test_a_digest_that_fails_is_retried_within_the_morning_and_sent_once(
    scheduled: tuple[Scheduler, str],
    services: Services,
    unreachable_memory: ProspectMemory,
    fake_slack: FakeSlack,
) -> None:
    _, db_url = scheduled
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)
    down = Scheduler(replace(services, memory=unreachable_memory), client, db_url)
    await down.start(paused=True)
    try:
        assert await down.digests.run_due(KOLKATA_MONDAY_8) == {KOLKATA: Delivery.FAILED}
        retry = down.digests.retry_job(TEAM_ID, KOLKATA)
        assert retry is not None
        assert retry.trigger.run_date == KOLKATA_MONDAY_8 + timedelta(minutes=5)
        assert retry.args == (TEAM_ID, KOLKATA, "2026-11-23")
    finally:
        down.shutdown()
    assert fake_slack.called("chat.postMessage") == []

    back = Scheduler(services, client, db_url)
    await back.start(paused=True)
    try:
        later = KOLKATA_MONDAY_8 + timedelta(minutes=5)
        assert await back.digests.run_scheduled(
            *retry.args[:2], now=later, period=retry.args[2]
        ) == (Delivery.SENT)
        assert (
            await back.digests.run_scheduled(*retry.args[:2], now=later, period=retry.args[2])
            is None
        )
    finally:
        back.shutdown()
    assert dm_channels(fake_slack) == [f"D{KOLKATA}"]


async def test_a_bot_down_at_0800_catches_up_the_same_day_but_not_the_next(
    scheduled: tuple[Scheduler, str], services: Services, fake_slack: FakeSlack
) -> None:
    scheduler, db_url = scheduled
    now = datetime.now(UTC)
    # As the job store stands after the bot was down when these digests were due.
    scheduler.scheduler.modify_job(
        f"digest:{TEAM_ID}:{KOLKATA}", next_run_time=now - timedelta(minutes=90)
    )
    scheduler.scheduler.modify_job(
        f"digest:{TEAM_ID}:{LA}", next_run_time=now - timedelta(hours=20)
    )
    scheduler.shutdown()

    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)
    back = Scheduler(services, client, db_url)
    # APScheduler's word that it is done with each due job: run to the end, or missed.
    settled: dict[str, int] = {}
    back.scheduler.add_listener(
        lambda event: settled.update({event.job_id: event.code}),
        EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED,
    )
    await back.start()  # running for real: APScheduler decides what is due
    try:
        await eventually(lambda: len(settled) == 2, "APScheduler settled both due jobs", 60)
        assert settled == {
            f"digest:{TEAM_ID}:{KOLKATA}": EVENT_JOB_EXECUTED,
            f"digest:{TEAM_ID}:{LA}": EVENT_JOB_MISSED,
        }
        assert dm_channels(fake_slack) == [f"D{KOLKATA}"]
        kolkata = back.scheduler.get_job(f"digest:{TEAM_ID}:{KOLKATA}")
        assert kolkata is not None and kolkata.next_run_time > now
    finally:
        back.shutdown()


async def test_a_digest_whose_sender_died_mid_send_is_still_sent_once(
    scheduled: tuple[Scheduler, str], services: Services, fake_slack: FakeSlack
) -> None:
    scheduler, db_url = scheduled
    fake_slack.hang.add("chat.postMessage")
    sending = asyncio.create_task(scheduler.digests.run_due(KOLKATA_MONDAY_8))
    await fake_slack.wait_for("chat.postMessage")
    sending.cancel()  # the process dies here: claimed, not sent
    with contextlib.suppress(asyncio.CancelledError):
        await sending
    scheduler.shutdown()
    fake_slack.hang.clear()
    fake_slack.calls.clear()

    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)
    back = Scheduler(services, client, db_url)
    await back.start(paused=True)
    try:
        guard = back.digests.retry_job(TEAM_ID, KOLKATA)
        assert guard is not None, "nothing left in the job store for the interrupted digest"
        assert guard.args == (TEAM_ID, KOLKATA, "2026-11-23")
        when = guard.trigger.run_date
        assert await back.digests.run_scheduled(
            TEAM_ID, KOLKATA, now=when, period="2026-11-23"
        ) == (Delivery.SENT)
        assert back.digests.retry_job(TEAM_ID, KOLKATA) is None
        assert (
            await back.digests.run_scheduled(TEAM_ID, KOLKATA, now=when, period="2026-11-23")
            is None
        )
    finally:
        back.shutdown()
    assert dm_channels(fake_slack) == [f"D{KOLKATA}"]


async def test_a_new_time_zone_moves_the_reps_digest(
    scheduled: tuple[Scheduler, str], services: Services
) -> None:
    scheduler, _ = scheduled
    await services.index.save_digest_setting(DigestSetting(TEAM_ID, KOLKATA, "Europe/London"))
    await scheduler.digests.sync()
    job = scheduler.scheduler.get_job(f"digest:{TEAM_ID}:{KOLKATA}")
    assert job is not None and "Europe/London" in repr(job.trigger)


async def test_slack_telling_of_a_move_moves_the_digest_and_nothing_else_of_the_setting(
    scheduled: tuple[Scheduler, str],
    services: Services,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    scheduler, _ = scheduled
    await services.index.save_digest_setting(
        DigestSetting(TEAM_ID, LA, "America/Los_Angeles", day="tue", hour=9)
    )
    server, bot = await start_bot(fake_slack, services)
    try:
        moved = {"type": "user_change", "user": {"id": LA, "tz": "Europe/Berlin"}}
        status, _ = await bot.send.event(moved)
        assert status == 200
        for _ in range(100):
            setting = await services.index.digest_setting(TEAM_ID, LA)
            if setting is not None and setting.tz == "Europe/Berlin":
                break
            await asyncio.sleep(0.05)
        assert setting == DigestSetting(TEAM_ID, LA, "Europe/Berlin", day="tue", hour=9)
        assert await services.timezones.known(TEAM_ID, LA) == (True, "Europe/Berlin")
        # Someone not enrolled, or a zone Slack never has: nothing is stored, once the log
        # says each event was looked at.
        with caplog.at_level(logging.DEBUG, logger="bot.infra.rep_timezones"):
            for user in ({"id": "U0NEW", "tz": "Asia/Tokyo"}, {"id": KOLKATA, "tz": "Mars/Base"}):
                status, _ = await bot.send.event({"type": "user_change", "user": user})
                assert status == 200

            def seen(words: str) -> bool:
                return any(words in message for message in caplog.messages)

            await eventually(
                lambda: (
                    seen("U0NEW has no digest")
                    and seen(f"Slack gave {KOLKATA} an unknown time zone")
                ),
                "both user_change events handled",
            )
    finally:
        await server.close()
    assert await services.index.digest_setting(TEAM_ID, "U0NEW") is None
    kolkata = await services.index.digest_setting(TEAM_ID, KOLKATA)
    assert kolkata is not None and kolkata.tz == "Asia/Kolkata"
    await scheduler.digests.sync()
    job = scheduler.scheduler.get_job(f"digest:{TEAM_ID}:{LA}")
    assert job is not None and "Europe/Berlin" in repr(job.trigger)


async def test_drafts_past_two_weeks_are_dropped_every_hour_without_a_new_draft(
    scheduled: tuple[Scheduler, str], services: Services
) -> None:
    scheduler, _ = scheduled
    assert "tidy" in {job.id for job in scheduler.scheduler.get_jobs(jobstore="memory")}
    now = datetime(2026, 11, 20, 10, tzinfo=UTC)
    for n, age in enumerate((timedelta(days=15), timedelta(days=1))):
        draft = KeptDraft(f"{n}" * 32, TEAM_ID, LA, "Marcus Webb", "Marcus", "Hi", "B", now - age)
        await services.index.keep_draft(draft)
    assert await scheduler.tidy(now) == 1
    assert await scheduler.tidy(now) == 0
    assert await services.index.kept_draft(TEAM_ID, LA, "1" * 32, now) is not None
