"""The one place the scheduler's jobs are registered: each job's work lives with what it does.

- the weekly digests, one cron job per rep plus retries (bot/digest/schedule.py);
- the quiet-deal alerts, every hour at :05 (bot/home/quiet_alerts.py);
- tidying, every hour at :35 (bot/infra/tidying.py).

Only the process elected by the database (bot/infra/scheduler_duty.py) runs it: APScheduler 3
cannot share a job store between processes. The digest's jobs persist in a SQLAlchemy job store
that references `bot.scheduler:run_digest_job` by import path, so that name stays here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import NamedTuple

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_sdk.web.async_client import AsyncWebClient

from bot.digest.schedule import DigestJobs
from bot.home.quiet_alerts import send_due_alerts
from bot.infra.tidying import tidy
from bot.services import Services
from memory.database import create_database_engine

logger = logging.getLogger(__name__)

SYNC_EVERY_MINUTES = 5
DELIVERY_CONCURRENCY = 10  # reps due at the same instant are served side by side, 10 at a time

# APScheduler stores a job's callable by import path, so the job finds the running scheduler
# here; set by Scheduler.start and cleared by shutdown.
_active: Scheduler | None = None


class Periodic(NamedTuple):
    """A job kept in memory and registered afresh at every start."""

    id: str
    work: Callable[[], Awaitable[object]]
    trigger: str  # APScheduler's trigger alias, so the scheduler's UTC applies
    fields: dict[str, int]


async def run_digest_job(workspace_id: str, rep_id: str, period: str | None = None) -> None:
    """The stored digest job (cron or retry): one rep's digest, through the bounded path."""
    if _active is None:
        logger.error("Digest job for %s ran with no active scheduler", rep_id)
        return
    await _active.digests.run_scheduled(workspace_id, rep_id, period=period)


class Scheduler:
    """The APScheduler of the elected process, with every job the bot runs on its own."""

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
        # Every job that messages reps, digest or alert, takes a slot: no stampede.
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
        self.digests = DigestJobs(
            self.scheduler, run_digest_job, services, client, self._slots, clock
        )

    def periodic(self) -> tuple[Periodic, ...]:
        return (
            # Settings written by other processes (or /digest settings) are picked up here.
            Periodic("digest-sync", self.digests.sync, "interval", {"minutes": SYNC_EVERY_MINUTES}),
            Periodic("tidy", self.tidy, "cron", {"minute": 35}),
            # Every hour, for the reps whose alert hour it is.
            Periodic("quiet-alerts", self.run_alerts, "cron", {"minute": 5}),
        )

    async def start(self, paused: bool = False) -> None:
        global _active
        _active = self
        self.scheduler.start(paused=paused)
        await self.digests.sync()
        for job in self.periodic():
            self.scheduler.add_job(
                job.work,
                job.trigger,
                id=job.id,
                jobstore="memory",
                replace_existing=True,
                **job.fields,
            )

    async def tidy(self, now: datetime | None = None) -> int:
        """Hourly housekeeping (bot.infra.tidying). Returns how many drafts went."""
        return await tidy(self.services, now or self.clock())

    async def run_alerts(self, now: datetime | None = None) -> int:
        """The quiet-deal alerts due now (bot.home.quiet_alerts). Returns how many DMs went."""
        return await send_due_alerts(
            self.services, self.client, now or self.clock(), self._slots, DELIVERY_CONCURRENCY
        )

    def shutdown(self) -> None:
        global _active
        # AsyncIOScheduler stops in a loop callback: until that runs it still says "running",
        # and a second shutdown would fail inside the callback.
        if self.scheduler.running and not self._shut_down:
            self._shut_down = True
            self.scheduler.shutdown(wait=False)
        if _active is self:
            _active = None
