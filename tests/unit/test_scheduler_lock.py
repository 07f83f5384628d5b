"""The scheduler lock on the databases it runs on: PostgreSQL's advisory lock (a real server,
started by the session) and a file lock beside SQLite's job store."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from memory.scheduler_lock import AdvisoryLock, FileLock, NoLock, scheduler_lock


def test_one_advisory_lock_holder_at_a_time_and_the_next_takes_over_when_it_lets_go(
    postgres_url: str,
) -> None:
    first, second = AdvisoryLock(postgres_url), AdvisoryLock(postgres_url)
    try:
        assert first.acquire() is True
        assert second.acquire() is False
        assert first.check() is True
        assert second.check() is False
        first.release()
        assert second.acquire() is True
        assert first.acquire() is False
    finally:
        first.release()
        second.release()


def test_a_holder_whose_session_dies_loses_the_lock_knows_it_and_another_gets_it(
    postgres_url: str,
) -> None:
    holder, standby = AdvisoryLock(postgres_url), AdvisoryLock(postgres_url)
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        assert holder.acquire() is True
        with admin.connect() as conn:
            killed = conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND granted AND database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())"
                )
            ).all()
        assert killed == [(True,)]
        for _ in range(50):  # the backend goes within moments of being told to
            if standby.acquire():
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the lock was not released when its session died")
        with pytest.raises(Exception, match=r"terminat|closed|connection"):
            holder.check()
        assert holder.check() is False  # and from then on it knows it holds nothing
    finally:
        holder.release()
        standby.release()
        admin.dispose()


def test_a_file_lock_has_one_holder_and_is_freed_when_the_holder_is_killed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "salesmemory-jobs.db.scheduler-lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from memory.scheduler_lock import "
            "FileLock; assert FileLock(Path(sys.argv[1])).acquire(); print('held', flush=True); "
            "time.sleep(60)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    lock = FileLock(path)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert lock.acquire() is False
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        assert lock.acquire() is True
        assert lock.check() is True
        assert FileLock(path).acquire() is False
    finally:
        holder.kill()
        holder.wait()
        lock.release()
    assert FileLock(path).acquire() is True


def test_each_database_gets_the_lock_that_works_for_it(tmp_path: Path, postgres_url: str) -> None:
    on_file = scheduler_lock(f"sqlite:///{tmp_path}/salesmemory-jobs.db")
    assert isinstance(on_file, FileLock)
    assert str(tmp_path / "salesmemory-jobs.db.scheduler-lock") in on_file.describe()
    assert isinstance(scheduler_lock("sqlite://"), NoLock)
    shared = scheduler_lock(postgres_url)
    assert isinstance(shared, AdvisoryLock) and "PostgreSQL" in shared.describe()
