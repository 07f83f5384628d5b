"""Every rep's digest at their own Monday 08:00 (or the day and hour they chose).

Settings live in the local index, written by any process; the one process configured to run
the scheduler (RUN_SCHEDULER) keeps one APScheduler cron job per rep in a persistent
SQLAlchemy job store, with explicit ids, so a restart neither loses nor doubles a schedule.
APScheduler 3 cannot share a job store between processes, hence only one runs it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from slack_sdk.web.async_client import AsyncWebClient

from bot.digest_delivery import Delivery, send_digest
from bot.services import Services
from memory.index import DigestSetting

logger = logging.getLogger(__name__)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MISFIRE_GRACE = 6 * 3600  # a digest up to 6 hours late still goes out, once
SYNC_EVERY_MINUTES = 5
DELIVERY_CONCURRENCY = 10  # reps due at the same instant are served side by side

# APScheduler stores a job's callable by import path, so the job finds the running scheduler
# here; set by DigestScheduler.start and cleared by shutdown.
_active: DigestScheduler | None = None


def job_id(workspace_id: str, rep_id: str) -> str:
    return f"digest:{workspace_id}:{rep_id}"


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


async def run_digest_job(workspace_id: str, rep_id: str) -> None:
    """The scheduled job: one rep's digest; a rep who left is unscheduled."""
    if _active is None:
        logger.error("Digest job for %s ran with no active scheduler", rep_id)
        return
    await _active.deliver(workspace_id, rep_id)


class DigestScheduler:
    def __init__(self, services: Services, client: AsyncWebClient, db_url: str) -> None:
        self.services = services
        self.client = client
        self.scheduler = AsyncIOScheduler(
            jobstores={
                "default": SQLAlchemyJobStore(url=db_url, tablename="digest_jobs"),
                "memory": MemoryJobStore(),
            },
            job_defaults={
                "coalesce": True,
                "misfire_grace_time": MISFIRE_GRACE,
                "max_instances": 1,
            },
            timezone=UTC,
        )

    def start(self, paused: bool = False) -> None:
        global _active
        _active = self
        self.scheduler.start(paused=paused)
        self.sync()
        # Settings written by other processes (or /digest settings) are picked up here.
        self.scheduler.add_job(
            self.sync,
            "interval",
            minutes=SYNC_EVERY_MINUTES,
            id="digest-sync",
            jobstore="memory",
            replace_existing=True,
        )

    def shutdown(self) -> None:
        global _active
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if _active is self:
            _active = None

    def sync(self) -> None:
        """Make the job store match the settings: one job per enabled rep, none for the rest."""
        wanted = {
            job_id(s.workspace_id, s.rep_id): s
            for s in self.services.index.digest_settings()
            if s.enabled
        }
        for job in self.scheduler.get_jobs(jobstore="default"):
            if job.id not in wanted:
                job.remove()
        for id_, setting in wanted.items():
            trigger = digest_trigger(setting)
            existing = self.scheduler.get_job(id_, jobstore="default")
            # Replacing an unchanged job would move its next run and could skip a missed one.
            if existing is not None and str(existing.trigger) == str(trigger):
                continue
            self.scheduler.add_job(
                run_digest_job,
                trigger,
                args=[setting.workspace_id, setting.rep_id],
                id=id_,
                jobstore="default",
                replace_existing=True,
            )
            logger.info("Scheduled %s: %s", id_, trigger)

    async def deliver(self, workspace_id: str, rep_id: str) -> Delivery:
        outcome = await send_digest(self.services, self.client, workspace_id, rep_id)
        if outcome is Delivery.REP_GONE:
            logger.warning("Unscheduling %s: they left the workspace", rep_id)
            self.services.index.remove_digest_setting(workspace_id, rep_id)
            self.sync()
        return outcome

    async def run_due(self, now: datetime) -> dict[str, Delivery]:
        """Deliver every digest due at `now` (an injected clock; nothing sleeps)."""
        self.sync()
        window = now - timedelta(minutes=1)
        due = [
            job
            for job in self.scheduler.get_jobs(jobstore="default")
            if (fire := job.trigger.get_next_fire_time(None, window)) is not None and fire <= now
        ]
        semaphore = asyncio.Semaphore(DELIVERY_CONCURRENCY)

        async def one(workspace_id: str, rep_id: str) -> tuple[str, Delivery]:
            async with semaphore:
                return rep_id, await self.deliver(workspace_id, rep_id)

        return dict(await asyncio.gather(*(one(*job.args) for job in due)))
