"""Every rep's digest at their own Monday 08:00 (or the day and hour they chose).

Settings live in the local index, written by any process; the one process elected by the
database to run the scheduler (bot/infra/scheduler_duty.py) keeps one APScheduler cron job per
rep in a persistent SQLAlchemy job store, with explicit ids, so a restart or a failover neither
loses nor doubles a schedule. APScheduler 3 cannot share a job store between processes, hence only
one runs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from slack_sdk.web.async_client import AsyncWebClient

from bot.digest.delivery import Delivery, send_digest
from bot.home.publish import publish_home
from bot.home.quiet_alerts import alert_due, send_quiet_alert
from bot.services import Services
from memory.database import create_database_engine
from memory.index import DigestSetting

logger = logging.getLogger(__name__)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SYNC_EVERY_MINUTES = 5
DELIVERY_CONCURRENCY = 10  # reps due at the same instant are served side by side, 10 at a time
# A failed digest (memory down at 08:00) is tried again within the morning.
RETRY_DELAYS = (
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(minutes=30),
    timedelta(hours=1),
)
CLAIM_LEASE = timedelta(minutes=15)  # a claim whose sender died is free again after this

# APScheduler stores a job's callable by import path, so the job finds the running scheduler
# here; set by DigestScheduler.start and cleared by shutdown.
_active: DigestScheduler | None = None


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


async def run_digest_job(workspace_id: str, rep_id: str, period: str | None = None) -> None:
    """The scheduled job (cron or retry): one rep's digest, through the bounded path."""
    if _active is None:
        logger.error("Digest job for %s ran with no active scheduler", rep_id)
        return
    await _active.run_scheduled(workspace_id, rep_id, period=period)


class DigestScheduler:
    def __init__(
        self,
        services: Services,
        client: AsyncWebClient,
        db_url: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.services = services
        self.client = client
        self.clock = clock
        # Every scheduled digest, cron or retry, takes a slot: reps due at once never stampede.
        self._slots = asyncio.Semaphore(DELIVERY_CONCURRENCY)
        self._shut_down = False
        self.scheduler = AsyncIOScheduler(
            jobstores={
                # The same engine set-up as the index: on PostgreSQL a connection the server
                # dropped is replaced, and a server that does not answer fails in seconds.
                "default": SQLAlchemyJobStore(
                    engine=create_database_engine(db_url), tablename="digest_jobs"
                ),
                "memory": MemoryJobStore(),
            },
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=UTC,
        )

    async def start(self, paused: bool = False) -> None:
        global _active
        _active = self
        self.scheduler.start(paused=paused)
        await self.sync()
        # Settings written by other processes (or /digest settings) are picked up here.
        self.scheduler.add_job(
            self.sync,
            "interval",
            minutes=SYNC_EVERY_MINUTES,
            id="digest-sync",
            jobstore="memory",
            replace_existing=True,
        )
        self.scheduler.add_job(
            self.tidy, "cron", minute=35, id="tidy", jobstore="memory", replace_existing=True
        )
        # Quiet-deal alerts (bot.home.quiet_alerts): every hour, for the reps whose alert
        # hour it is.
        self.scheduler.add_job(
            self.run_alerts,
            "cron",
            minute=5,
            id="quiet-alerts",
            jobstore="memory",
            replace_existing=True,
        )

    async def tidy(self, now: datetime | None = None) -> int:
        """Hourly housekeeping: drafts kept past their two weeks are dropped even when no new
        draft is made (their text is the prospect's). Returns how many went."""
        dropped = await self.services.index.drop_old_drafts(now or self.clock())
        if dropped:
            logger.info("Dropped %d follow-up drafts older than two weeks", dropped)
        return dropped

    async def run_alerts(self, now: datetime | None = None) -> int:
        """Send the quiet-deal alerts due now (each rep's morning, 09:00 to 11:59, on a
        working day), a few at a time; each rep's is claimed in the database, so at most one a
        day. Returns how many DMs went out."""
        now = now or self.clock()
        due = [
            (s, day)
            for s in await self.services.index.digest_settings()
            if (day := alert_due(s, now)) is not None
        ]

        sent = 0

        async def worker() -> None:
            # A few workers over the list, not one task per rep: 1,000 reps due at 09:00 never
            # stampede the database or Slack.
            nonlocal sent
            while due:
                setting, day = due.pop()
                async with self._slots:
                    try:
                        sent += await send_quiet_alert(
                            self.services, self.client, setting.workspace_id, setting.rep_id, day
                        )
                    except Exception:
                        logger.exception("Quiet-deal alert for %s failed", setting.rep_id)

        await asyncio.gather(*(worker() for _ in range(min(DELIVERY_CONCURRENCY, len(due)))))
        return sent

    def shutdown(self) -> None:
        global _active
        # AsyncIOScheduler stops in a loop callback: until that runs it still says "running",
        # and a second shutdown would fail inside the callback.
        if self.scheduler.running and not self._shut_down:
            self._shut_down = True
            self.scheduler.shutdown(wait=False)
        if _active is self:
            _active = None

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
                run_digest_job,
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
            run_digest_job,
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
