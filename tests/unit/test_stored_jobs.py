"""Digest and retry jobs stored in a job store by earlier versions still load and resolve
after code moves: the stored reference is `bot.scheduler:run_digest_job`, so that name stays."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot import scheduler as digest_scheduler
from bot.digest.schedule import retry_job_id

# What today's job store holds for a rep's weekly digest and a retry (bot/scheduler.py).
STORED_REFERENCE = "bot.scheduler:run_digest_job"


async def test_jobs_stored_with_todays_reference_load_and_resolve(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    writer = AsyncIOScheduler(jobstores={"default": SQLAlchemyJobStore(url=url)}, timezone=UTC)
    writer.start(paused=True)
    writer.add_job(
        STORED_REFERENCE,
        CronTrigger(day_of_week="mon", hour=8, timezone="Europe/Paris"),
        args=["T1", "U1"],
        id="digest:T1:U1",
    )
    writer.add_job(
        STORED_REFERENCE,
        "date",
        run_date=datetime(2026, 11, 23, 9, tzinfo=UTC),
        args=["T1", "U1", "2026-11-23"],
        id=retry_job_id("T1", "U1"),
    )
    writer.shutdown(wait=False)

    reader = AsyncIOScheduler(jobstores={"default": SQLAlchemyJobStore(url=url)}, timezone=UTC)
    reader.start(paused=True)
    try:
        jobs = {job.id: job for job in reader.get_jobs()}
    finally:
        reader.shutdown(wait=False)
    assert set(jobs) == {"digest:T1:U1", retry_job_id("T1", "U1")}
    for job in jobs.values():
        assert job.func_ref == STORED_REFERENCE
        assert job.func is digest_scheduler.run_digest_job
    assert jobs["digest:T1:U1"].args == ("T1", "U1")
