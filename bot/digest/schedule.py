"""Every rep's digest at their own Monday 08:00 (or the day and hour they chose), as jobs.

Settings live in the local index, written by any process; the one process elected to run the
scheduler (bot/scheduler.py registers these jobs) keeps one APScheduler cron job per rep in a
persistent job store, with explicit ids, so a restart or a failover neither loses nor doubles
a schedule. A digest is claimed once per rep and period in the database, and a failed one is
tried again within the morning by a dated retry job in the same store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from slack_sdk.web.async_client import AsyncWebClient

from bot.digest.delivery import Delivery, send_digest
from bot.home.publish import publish_home
from bot.services import Services
from memory.index import DigestSetting

logger = logging.getLogger(__name__)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A failed digest (memory down at 08:00) is tried again within the morning.
RETRY_DELAYS = (
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(minutes=30),
    timedelta(hours=1),
)
CLAIM_LEASE = timedelta(minutes=15)  # a claim whose sender died is free again after this

# What a stored digest or retry job calls: (workspace, rep) or (workspace, rep, period). It
# is given, not imported: APScheduler stores it by import path, which must never move.
DigestJob = Callable[..., Awaitable[None]]


def job_id(workspace_id: str, rep_id: str) -> str:
    return f"digest:{workspace_id}:{rep_id}"


def retry_job_id(workspace_id: str, rep_id: str) -> str:
    return f"digest-retry:{workspace_id}:{rep_id}"


def digest_trigger(setting: DigestSetting) -> CronTrigger:
    return CronTrigger(
        day_of_week=setting.day, hour=setting.hour, minute=0, timezone=_zone(setting.tz)
    )


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def next_digest_time(setting: DigestSetting, after: datetime) -> datetime | None:
    """When the rep's next digest is due after `after`."""
    fire: datetime | None = digest_trigger(setting).get_next_fire_time(None, after)
    return fire


def catch_up_seconds(setting: DigestSetting) -> int:
    """How late a digest may still go out: until the end of the rep's day it was due on."""
    return max(3600, (24 - setting.hour) * 3600)


def digest_period(tz: str, now: datetime) -> str:
    """The period a digest belongs to: the rep's local date it is sent for."""
    return now.astimezone(_zone(tz)).date().isoformat()


class DigestJobs:
    """The digest's jobs on a running APScheduler: one cron job per enrolled rep, kept in line
    with the settings, and the bounded, claimed, retried run of each."""

    def __init__(
        self,
        scheduler: AsyncIOScheduler,
        job: DigestJob,
        services: Services,
        client: AsyncWebClient,
        slots: asyncio.Semaphore,
        clock: Callable[[], datetime],
    ) -> None:
        self.scheduler = scheduler
        self.services = services
        self.client = client
        self.clock = clock
        self._job = job
        # Shared with the other jobs that message reps: reps due at once never stampede.
        self._slots = slots

    async def sync(self) -> None:
        """Make the job store match the settings: one job per enabled rep, none for the rest."""
        wanted = {
            job_id(s.workspace_id, s.rep_id): s
            for s in await self.services.index.digest_settings()
            if s.enabled
        }
        # APScheduler's job store is synchronous (and thread-safe): keep it off the event loop.
        await asyncio.to_thread(self._match_jobs, wanted)

    def _match_jobs(self, wanted: dict[str, DigestSetting]) -> None:
        for job in self.scheduler.get_jobs(jobstore="default"):
            if job.id.startswith("digest:") and job.id not in wanted:
                job.remove()
        for id_, setting in wanted.items():
            trigger = digest_trigger(setting)
            existing = self.scheduler.get_job(id_, jobstore="default")
            # Replacing an unchanged job would move its next run and could skip a missed one.
            # repr, not str: only repr names the time zone, and a new zone is a new schedule.
            if existing is not None and repr(existing.trigger) == repr(trigger):
                continue
            self.scheduler.add_job(
                self._job,
                trigger,
                args=[setting.workspace_id, setting.rep_id],
                id=id_,
                jobstore="default",
                replace_existing=True,
                # Down at 08:00 and back at 09:30: the digest still goes out that day, once.
                misfire_grace_time=catch_up_seconds(setting),
            )
            logger.info("Scheduled %s: %s", id_, trigger)

    async def deliver(self, workspace_id: str, rep_id: str) -> Delivery:
        outcome = await send_digest(self.services, self.client, workspace_id, rep_id)
        if outcome is Delivery.REP_GONE:
            logger.warning("Unscheduling %s: they left the workspace", rep_id)
            await self.services.index.remove_digest_setting(workspace_id, rep_id)
            await self.sync()
        return outcome

    async def run_scheduled(
        self,
        workspace_id: str,
        rep_id: str,
        now: datetime | None = None,
        period: str | None = None,
    ) -> Delivery | None:
        """The production path for a scheduled digest: bounded, claimed once per rep and
        period in the database (a restart or a second scheduler never sends it twice), and
        retried within the morning when it fails. None: sent already or being sent elsewhere."""
        now = now or self.clock()
        index = self.services.index
        if period is None:
            setting = await index.digest_setting(workspace_id, rep_id)
            period = digest_period(setting.tz if setting else "UTC", now)
        async with self._slots:
            attempt = await index.claim_digest(workspace_id, rep_id, period, now, CLAIM_LEASE)
            if attempt is None:
                logger.info("Digest %s for %s: already sent or in progress", period, rep_id)
                return None
            # Stored before sending: should this process die mid-send, the job store still
            # holds a run for this period (APScheduler has already moved the cron job on).
            await asyncio.to_thread(self._guard, workspace_id, rep_id, period, now)
            outcome = await self.deliver(workspace_id, rep_id)
            done = outcome is not Delivery.FAILED
            await index.finish_digest(workspace_id, rep_id, period, done, self.clock())
            if outcome is Delivery.SENT:
                # Home shows the new "last digest" (within this bounded slot: no stampede).
                await publish_home(self.services, self.client, workspace_id, rep_id)
        if done:
            await asyncio.to_thread(self._unguard, workspace_id, rep_id)
        else:
            await asyncio.to_thread(self._retry_later, workspace_id, rep_id, period, attempt, now)
        return outcome

    def _guard(self, workspace_id: str, rep_id: str, period: str, now: datetime) -> None:
        self._add_retry(workspace_id, rep_id, period, now + CLAIM_LEASE + timedelta(minutes=1))

    def _unguard(self, workspace_id: str, rep_id: str) -> None:
        with contextlib.suppress(JobLookupError):
            self.scheduler.remove_job(retry_job_id(workspace_id, rep_id), jobstore="default")

    def _retry_later(
        self, workspace_id: str, rep_id: str, period: str, attempt: int, now: datetime
    ) -> None:
        if attempt > len(RETRY_DELAYS):
            logger.error(
                "Digest %s for %s failed %d times; giving up until the next one",
                period,
                rep_id,
                attempt,
            )
            return
        run_at = now + RETRY_DELAYS[attempt - 1]
        logger.warning(
            "Digest %s for %s failed (attempt %d); retrying at %s", period, rep_id, attempt, run_at
        )
        self._add_retry(workspace_id, rep_id, period, run_at)

    def _add_retry(self, workspace_id: str, rep_id: str, period: str, run_at: datetime) -> None:
        self.scheduler.add_job(
            self._job,
            "date",
            run_date=run_at,
            args=[workspace_id, rep_id, period],
            id=retry_job_id(workspace_id, rep_id),
            jobstore="default",
            replace_existing=True,
            misfire_grace_time=3 * 3600,
        )

    def retry_job(self, workspace_id: str, rep_id: str) -> Job | None:
        job: Job | None = self.scheduler.get_job(retry_job_id(workspace_id, rep_id))
        return job

    async def run_due(self, now: datetime) -> dict[str, Delivery]:
        """Run every digest due at `now` (an injected clock) through the production path."""
        await self.sync()
        window = now - timedelta(minutes=1)
        due = [
            job
            for job in self.scheduler.get_jobs(jobstore="default")
            if job.id.startswith("digest:")
            and (fire := job.trigger.get_next_fire_time(None, window)) is not None
            and fire <= now
        ]
        outcomes = await asyncio.gather(
            *(self.run_scheduled(job.args[0], job.args[1], now=now) for job in due)
        )
        return {
            job.args[1]: outcome
            for job, outcome in zip(due, outcomes, strict=True)
            if outcome is not None
        }
