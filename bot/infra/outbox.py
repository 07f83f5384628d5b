"""The one path a logged call takes to Hindsight: write-ahead, then one delivery worker.

A submitted call is written to the local database (note and transcript) before the modal is
acked. One worker per process sends waiting calls with bounded concurrency, honours
Hindsight's 503 + Retry-After as backpressure, backs off while memory is down, and marks
calls delivered (their text is then dropped locally). It runs all the time: no kept call
waits for a restart or for the next logged call. Several replicas may each run one: a lease
in the database keeps them from sending the same call at once, and Hindsight's document id
makes a repeat harmless anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from memory.index import Claimed, LocalIndex
from memory.records import CallLog
from memory.store import MemoryBusy, MemoryRejected, MemoryUnavailable, ProspectMemory

logger = logging.getLogger(__name__)

DELIVERY_CONCURRENCY = 4  # far below Hindsight's 64 concurrent retains: one process never floods it
# Longer than one retain may take (the client's timeout is 20 s), short enough that a call a
# killed worker had claimed waits at most this long after a restart. Should a lease run out
# mid-send, the second send replaces the first (same document id): nothing doubles.
LEASE = timedelta(seconds=30)
MAX_BACKOFF = 30.0
REJECTED_BACKOFF = timedelta(minutes=10)  # a call Hindsight refuses is kept and retried slowly

# How often a filed-but-not-finished call is looked at again, and the idle wake-up.
POLL = timedelta(seconds=2)
IDLE_SECONDS = 2.0

# Called when memory has a call (stored, or accepted into its queue); may run twice for one
# call, so it must tell the rep at most once (the bot claims that in the database).
DeliveredHook = Callable[[CallLog], Awaitable[None]]
# `LocalIndex.release` bound to one call and its lease.
Release = Callable[..., Awaitable[None]]


class Outbox:
    """Write-ahead storage and the delivery worker for logged calls."""

    def __init__(
        self,
        index: LocalIndex,
        memory: ProspectMemory,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        concurrency: int = DELIVERY_CONCURRENCY,
    ) -> None:
        self.index = index
        self.memory = memory
        self.clock = clock
        self.concurrency = concurrency
        self.on_delivered: DeliveredHook | None = None
        self._kick = asyncio.Event()
        self._delivered: dict[str, asyncio.Event] = {}
        self._backoff = 0.0
        self._paused_until = 0.0  # loop time before which nothing is sent (busy/down)

    async def submit(
        self, call: CallLog, deadline: float | None = None, replace: bool = True
    ) -> bool:
        """Write the call ahead of everything else (committed before `deadline`, a
        `time.monotonic()` instant, or not at all); False when it was submitted before
        (with `replace` False, in any form: the first one stands)."""
        new = await self.index.write_ahead(call, self.clock(), deadline, replace)
        self.kick()
        return new

    def kick(self) -> None:
        """A call is waiting: wake the worker (it still respects backoff)."""
        self._kick.set()

    async def wait_delivered(self, call_id: str, timeout: float) -> bool:
        """Whether this process delivered the call within `timeout` seconds."""
        done = self._delivered.setdefault(call_id, asyncio.Event())
        try:
            await asyncio.wait_for(done.wait(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            if self._delivered.get(call_id) is done and not done.is_set():
                self._delivered.pop(call_id, None)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; never raises (a failure is logged and retried)."""
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            try:
                sent = await self.drain_once()
            except Exception:
                logger.exception("The delivery worker failed; trying again shortly")
                sent = 0
                self._backoff = min(max(self._backoff * 2, 1.0), MAX_BACKOFF)
                self._paused_until = loop.time() + self._backoff
            if sent:
                continue  # more may be waiting
            wait = max(self._paused_until - loop.time(), 0.0) or IDLE_SECONDS
            await _first_of(stop, self._kick, wait)
            if not stop.is_set() and self._paused_until > loop.time():
                # A kick never cuts a backoff short: a burst must not hammer a server that is down.
                await _first_of(stop, None, self._paused_until - loop.time())

    async def drain_once(self) -> int:
        """Send what is due now (one batch, bounded concurrency); returns how many went."""
        loop = asyncio.get_running_loop()
        if self._paused_until > loop.time():
            return 0
        self._kick.clear()
        now = self.clock()
        lease = now + LEASE
        # Only as many as go out at once: a claimed call never waits out its lease in a queue.
        claimed = await self.index.claim_due(lease, now, self.concurrency)
        if not claimed:
            return 0
        results = await asyncio.gather(*(self._deliver(one, lease) for one in claimed))
        return sum(results)

    async def _deliver(self, claimed: Claimed, lease: datetime) -> bool:
        loop = asyncio.get_running_loop()
        call = claimed.call
        release: Release = functools.partial(self.index.release, call.call_id, lease=lease)
        if self._paused_until > loop.time():
            await release(None, None, False)
            return False
        operations: list[str] = []  # memory's records of this delivery (none when filed)
        try:
            if await self.memory.reasons():
                queued = await self._file_queued(claimed, lease, release)
                if queued is not None:
                    return queued
            else:
                operations = await self.memory.retain_call(call)
        except Exception as failure:
            await self._keep(call, failure, release)
            return False
        self._backoff = 0.0
        return await self._stored(call, claimed.attempts, operations)

    async def _file_queued(
        self, claimed: Claimed, lease: datetime, release: Release
    ) -> bool | None:
        """With an LLM, memory files the note in its own queue (facts take a model call):
        accepted is what the rep hears about; done is when the text goes. None once memory
        has filed it (the caller then marks it delivered), else what `_deliver` returns."""
        call = claimed.call
        if claimed.operation_id is None:
            operation = operation_id_for(
                self.memory.bank_id(call.workspace_id), call, claimed.failed_operations
            )
            await self.memory.submit_call(call, operation)
            poll_at = self.clock() + POLL
            accepted = await self.index.accept(call.call_id, operation, poll_at, lease)
            if not accepted and await self.index.is_erased(call.call_id):
                # Erased while memory took it: the erasure waits for this filing to
                # end, then deletes what it made.
                await self.index.reopen_erasure_of(call.call_id, operation)
                return True
            self._backoff = 0.0
            await self._tell(call)
            return True
        status, error = await self.memory.operation(call.workspace_id, claimed.operation_id)
        if status in ("pending", "processing"):
            await release(self.clock() + POLL, None, False)
            return False
        if status != "completed":
            # The server's error may quote the note (an extraction that failed on it).
            logger.warning(
                "Memory could not file call %s (%s); sending it again", call.call_id, status
            )
            logger.debug("Memory's error for call %s: %s", call.call_id, error)
            await release(None, f"{status}: {error}", True, operation_failed=True)
            return False
        return None

    async def _keep(self, call: CallLog, failure: Exception, release: Release) -> None:
        """Give back a call whose delivery failed, due again when the failure allows.
        Called from the `except` block, so `logger.exception` still has the traceback."""
        loop = asyncio.get_running_loop()
        if isinstance(failure, MemoryBusy):
            # At capacity: wait as asked and send it again; not an outage, not an attempt.
            self._paused_until = max(self._paused_until, loop.time() + failure.retry_after)
            await release(None, str(failure), False)
        elif isinstance(failure, MemoryRejected):
            logger.error("Hindsight refused call %s (%s); keeping it", call.call_id, failure)
            retry_at = self.clock() + REJECTED_BACKOFF
            await release(retry_at, str(failure), True)
        elif isinstance(failure, MemoryUnavailable):
            if self._paused_until <= loop.time():
                # Calls failing side by side are one outage: the backoff grows once.
                self._backoff = min(max(self._backoff * 2, 1.0), MAX_BACKOFF)
                pause = self._backoff * random.uniform(0.8, 1.2)  # replicas out of step
                self._paused_until = loop.time() + pause
            pause = self._paused_until - loop.time()
            logger.warning(
                "Memory unreachable (%s); %s waits, retrying in %.0fs",
                failure,
                call.call_id,
                pause,
            )
            await release(None, str(failure), True)
        else:
            # One call that breaks something unforeseen is kept and retried slowly; it never
            # takes the batch (or the worker) down with it.
            logger.exception("Delivering call %s failed unexpectedly; keeping it", call.call_id)
            retry_at = self.clock() + REJECTED_BACKOFF
            await release(retry_at, repr(failure), True)

    async def _stored(self, call: CallLog, attempts: int, operations: list[str]) -> bool:
        """Memory has the call: drop its text, or undo it when it was erased meanwhile."""
        known = await self.index.mark_delivered(call.call_id, operations)
        if known is None and await self.index.is_erased(call.call_id):
            # Erased while this note was on its way: it does not come back.
            try:
                await self.memory.forget_call(call.workspace_id, call.call_id)
                await self.memory.forget_operations(call.workspace_id, operations)
                logger.info("Call %s came after its erasure: deleted", call.call_id)
            except Exception:
                logger.exception(
                    "Call %s came after its erasure; the erasure runs again", call.call_id
                )
                await self.index.reopen_erasure_of(call.call_id)
            return True
        if attempts:
            logger.info("Delivered kept call %s after %d attempt(s)", call.call_id, attempts)
        if known is not None:
            await self._tell(call)
        return True

    async def _tell(self, call: CallLog) -> None:
        """Memory has the call: wake whoever waits for it and let the hook tell the rep."""
        self._delivered.setdefault(call.call_id, asyncio.Event()).set()
        self._forget_later(call.call_id)
        if self.on_delivered is not None:
            try:
                await self.on_delivered(call)
            except Exception:
                logger.exception("Could not tell the rep that call %s is stored", call.call_id)

    def _forget_later(self, call_id: str) -> None:
        # A waiter may arrive just after delivery; keep the event a little, then drop it.
        asyncio.get_running_loop().call_later(60, self._delivered.pop, call_id, None)


def operation_id_for(bank_id: str, call: CallLog, failed_operations: int) -> str:
    """The same call, content and try always give the same operation id (memory does that
    work once, however often it is sent); edited content or a failed operation, a new one."""
    content = hashlib.sha256(call.to_json().encode()).hexdigest()[:16]
    name = f"salesmemory/{bank_id}/{call.call_id}/{content}/{failed_operations}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


async def _first_of(stop: asyncio.Event, other: asyncio.Event | None, timeout: float) -> None:
    """Wait until `stop` or `other` is set, or `timeout` seconds pass."""
    waits = [asyncio.ensure_future(stop.wait())]
    if other is not None:
        waits.append(asyncio.ensure_future(other.wait()))
    try:
        await asyncio.wait(waits, timeout=max(timeout, 0.0), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waiting
