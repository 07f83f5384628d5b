"""Exactly one process runs the digest scheduler, elected by the database; the rest stand by.

APScheduler 3 cannot share a job store between processes, so every replica competes for the
scheduler lock (memory/scheduler_lock.py) and only its holder runs the scheduler. A standby
replica tries again every few seconds and takes over when the holder dies. The holder checks
its lock every few seconds: when the database is lost it stops the scheduler first and lets go
of the lock, says so in its log and readiness, and competes again once the database answers.
Digests never go twice either way: each is claimed in the database before it is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from enum import StrEnum
from typing import Protocol, TypeVar

from memory.scheduler_lock import SchedulerLock

logger = logging.getLogger(__name__)

T = TypeVar("T")

TRY_EVERY_SECONDS = 3.0  # a standby replica asks for the lock this often
CHECK_EVERY_SECONDS = 2.0  # the holder makes sure it still holds it this often
# A lock call the database has not answered by then counts as the database lost.
LOCK_CALL_SECONDS = 10.0
# A scheduler that has not started by then (its job store hangs) is given up, lock and all.
START_SECONDS = 30.0


class SchedulerRole(StrEnum):
    """What this process does about the digest scheduler (shown by GET /readyz)."""

    STARTING = "starting"
    RUNNING = "running"  # this process runs it
    STANDBY = "standby"  # another process does; this one takes over if it stops
    NO_DATABASE = "no database"  # the database does not answer: not running it
    OFF = "off"  # RUN_SCHEDULER=false: this process never runs it


class RunningScheduler(Protocol):
    def shutdown(self) -> None: ...


class SchedulerDuty:
    """Competes for the scheduler lock and runs the scheduler while holding it."""

    def __init__(
        self,
        lock: SchedulerLock,
        start_scheduler: Callable[[], Awaitable[RunningScheduler]],
        try_every: float = TRY_EVERY_SECONDS,
        check_every: float = CHECK_EVERY_SECONDS,
        call_timeout: float = LOCK_CALL_SECONDS,
    ) -> None:
        self.lock = lock
        self.role = SchedulerRole.STARTING
        self._start_scheduler = start_scheduler
        self._try_every = try_every
        self._check_every = check_every
        self._call_timeout = call_timeout
        self._thread = _LockThread()
        self._asking: asyncio.Future[bool] | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set: stand by, take over when the lock is free, step down when the
        database is lost."""
        try:
            while not stop.is_set():
                try:
                    held = await self._ask(self.lock.acquire)
                except Exception as error:
                    self._let_go()
                    self._become(SchedulerRole.NO_DATABASE, _reason(error))
                else:
                    if held:
                        await self._lead(stop)
                    else:
                        self._become(SchedulerRole.STANDBY)
                await _wait(stop, self._try_every)
        finally:
            self._let_go()
            self._thread.shutdown()

    async def _lead(self, stop: asyncio.Event) -> None:
        try:
            scheduler = await asyncio.wait_for(self._start_scheduler(), START_SECONDS)
        except Exception as error:
            logger.exception("Won the scheduler lock but could not start the digest scheduler")
            self._let_go()
            self._become(SchedulerRole.NO_DATABASE, _reason(error))
            return
        self._become(SchedulerRole.RUNNING)
        lost = ""
        try:
            while not lost and not await _wait(stop, self._check_every):
                try:
                    held = await self._ask(self.lock.check)
                except Exception as error:
                    lost = _reason(error)
                else:
                    lost = "" if held else "the lock is no longer held by this process"
        finally:
            # Stopped before the lock is let go: two schedulers never run at once.
            scheduler.shutdown()
            await asyncio.sleep(0)  # APScheduler's asyncio shutdown runs as a loop callback
            self._let_go()
        if lost:
            self.role = SchedulerRole.NO_DATABASE
            logger.error(
                "Lost the database (%s): this process stopped running the digest scheduler; "
                "it competes for it again once the database answers",
                lost,
            )
        else:
            logger.info("This process no longer runs the digest scheduler (stopping)")

    async def _ask(self, question: Callable[[], bool]) -> bool:
        """Run a lock call on the lock's thread, bounded by the call timeout."""
        if self._asking is not None and not self._asking.done():
            raise TimeoutError("the database has not answered the last lock call yet")
        asking = asyncio.wrap_future(self._thread.submit(question))
        # Read later if the wait below gives up first: never an unread exception.
        asking.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._asking = asking
        try:
            return await asyncio.wait_for(asyncio.shield(asking), self._call_timeout)
        except TimeoutError:
            raise TimeoutError(
                f"the database did not answer within {self._call_timeout:.0f}s"
            ) from None

    def _let_go(self) -> None:
        # Queued behind any call still waiting for the database: released whatever it returns.
        self._thread.submit(self.lock.release)

    def _become(self, role: SchedulerRole, reason: str = "") -> None:
        if role is self.role:
            return
        self.role = role
        if role is SchedulerRole.RUNNING:
            logger.info(
                "This process runs the digest scheduler (elected by %s)", self.lock.describe()
            )
        elif role is SchedulerRole.STANDBY:
            logger.info(
                "Another process runs the digest scheduler; this one stands by and takes over "
                "if it stops"
            )
        elif role is SchedulerRole.NO_DATABASE:
            logger.warning(
                "The database does not answer (%s): this process does not run the digest "
                "scheduler until it does",
                reason,
            )


class _LockThread:
    """One thread for lock calls, in order: a release queued behind a call the database never
    answered still happens after it, whatever that call did. A daemon, so such a call never
    keeps the process from exiting."""

    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[tuple[Callable[[], object], Future[object]] | None] = (
            queue.SimpleQueue()
        )
        self._worker = threading.Thread(target=self._serve, name="scheduler-lock", daemon=True)
        self._worker.start()

    def submit(self, call: Callable[[], T]) -> Future[T]:
        done: Future[T] = Future()
        self._calls.put((call, done))  # type: ignore[arg-type]
        return done

    def shutdown(self) -> None:
        self._calls.put(None)  # after every call already queued

    def _serve(self) -> None:
        while (item := self._calls.get()) is not None:
            call, done = item
            if not done.set_running_or_notify_cancel():
                continue
            try:
                done.set_result(call())
            except BaseException as error:
                done.set_exception(error)


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    """Wait up to `seconds`; True as soon as `stop` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()
