"""The scheduler election as one process lives it, with a lock whose answers the test sets."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable

import pytest

from bot.infra.scheduler_duty import SchedulerDuty, SchedulerRole


class ScriptedLock:
    """A scheduler lock whose database the test controls; it records what was asked of it."""

    def __init__(self) -> None:
        self.free = False  # whether another process holds the lock
        self.database_up = True
        self.hang = threading.Event()  # set: the next check waits for `unhang`
        self.unhang = threading.Event()
        self.held = False
        self.events: list[str] = []

    def _database(self) -> None:
        if not self.database_up:
            raise ConnectionError("connection refused")

    def acquire(self) -> bool:
        self._database()
        if self.free:
            self.held = True
        return self.held

    def check(self) -> bool:
        if self.hang.is_set():
            self.unhang.wait(10)
            self.events.append("stuck call returned")
        self._database()
        return self.held

    def release(self) -> None:
        if self.held:
            self.events.append("released")
        self.held = False

    def describe(self) -> str:
        return "a scripted lock"


class FakeScheduler:
    def __init__(self, events: list[str]) -> None:
        self.events = events
        self.running = True

    def shutdown(self) -> None:
        if self.running:
            self.events.append("scheduler stopped")
        self.running = False


@pytest.fixture
def lock() -> ScriptedLock:
    return ScriptedLock()


@pytest.fixture
async def duty(lock: ScriptedLock) -> AsyncIterator[SchedulerDuty]:
    async def start_scheduler() -> FakeScheduler:
        lock.events.append("scheduler started")
        return FakeScheduler(lock.events)

    duty = SchedulerDuty(lock, start_scheduler, try_every=0.01, check_every=0.01, call_timeout=0.3)
    stop = asyncio.Event()
    running = asyncio.create_task(duty.run(stop))
    yield duty
    stop.set()
    await asyncio.wait_for(running, 5)


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("never happened")


async def test_a_standby_takes_over_when_the_holder_lets_go(
    duty: SchedulerDuty, lock: ScriptedLock
) -> None:
    await until(lambda: duty.role is SchedulerRole.STANDBY)
    assert lock.events == []
    lock.free = True
    await until(lambda: duty.role is SchedulerRole.RUNNING)
    assert lock.events == ["scheduler started"]


async def test_losing_the_database_stops_the_scheduler_before_the_lock_goes_and_it_competes_again(
    duty: SchedulerDuty, lock: ScriptedLock, caplog: pytest.LogCaptureFixture
) -> None:
    lock.free = True
    await until(lambda: duty.role is SchedulerRole.RUNNING)
    lock.database_up = False
    await until(lambda: duty.role is SchedulerRole.NO_DATABASE)
    await until(lambda: "released" in lock.events)
    assert lock.events == ["scheduler started", "scheduler stopped", "released"]
    assert "Lost the database" in caplog.text and "stopped running" in caplog.text
    lock.database_up = True
    await until(lambda: duty.role is SchedulerRole.RUNNING)
    assert lock.events[-1] == "scheduler started"


async def test_a_check_the_database_never_answers_counts_as_lost_and_the_lock_goes_after_it(
    duty: SchedulerDuty, lock: ScriptedLock
) -> None:
    lock.free = True
    await until(lambda: duty.role is SchedulerRole.RUNNING)
    lock.hang.set()
    await until(lambda: duty.role is SchedulerRole.NO_DATABASE)
    assert lock.events == ["scheduler started", "scheduler stopped"]
    lock.hang.clear()
    lock.free = False  # meanwhile another process took over
    lock.unhang.set()
    await until(lambda: duty.role is SchedulerRole.STANDBY)
    # The stuck call held the lock until it returned; the release queued behind it then ran.
    assert lock.events[2:] == ["stuck call returned", "released"]


async def test_a_scheduler_that_cannot_start_gives_the_lock_back(lock: ScriptedLock) -> None:
    attempts = 0

    async def failing_start() -> FakeScheduler:
        nonlocal attempts
        attempts += 1
        raise ConnectionError("job store unreachable")

    lock.free = True
    duty = SchedulerDuty(lock, failing_start, try_every=0.01, check_every=0.01)
    stop = asyncio.Event()
    running = asyncio.create_task(duty.run(stop))
    try:
        await until(lambda: attempts >= 2)
        assert duty.role is SchedulerRole.NO_DATABASE
        assert lock.events.count("released") >= 1
    finally:
        stop.set()
        await asyncio.wait_for(running, 5)


async def test_stopping_stops_the_scheduler_and_lets_go_of_the_lock(lock: ScriptedLock) -> None:
    async def start_scheduler() -> FakeScheduler:
        lock.events.append("scheduler started")
        return FakeScheduler(lock.events)

    lock.free = True
    duty = SchedulerDuty(lock, start_scheduler, try_every=0.01, check_every=0.01)
    stop = asyncio.Event()
    running = asyncio.create_task(duty.run(stop))
    await until(lambda: duty.role is SchedulerRole.RUNNING)
    stop.set()
    await asyncio.wait_for(running, 5)
    await until(lambda: "released" in lock.events)
    assert lock.events == ["scheduler started", "scheduler stopped", "released"]
    assert not lock.held
