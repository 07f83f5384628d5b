"""The write-ahead outbox and its one delivery worker, against the real Hindsight."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from bot.infra.outbox import Outbox
from bot.log.calls import log_call
from bot.services import Services
from memory.index import LocalIndex
from memory.records import CallLog
from memory.store import ProspectMemory
from tests.memory.test_memory_contract import WORKSPACE, call
from tests.support.hindsight_proxy import CapacityProxy


@contextlib.asynccontextmanager
async def running(outbox: Outbox) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    worker = asyncio.create_task(outbox.run(stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(worker, 10)


async def wait_until_empty(index: LocalIndex, timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while await index.count_waiting():
        assert asyncio.get_running_loop().time() < deadline, "calls were still waiting"
        await asyncio.sleep(0.1)


async def test_a_call_is_written_ahead_before_memory_sees_it(
    services: Services, unreachable_memory: ProspectMemory
) -> None:
    down = Services(memory=unreachable_memory, index=services.index, clock=services.clock)
    assert await log_call(down, call("Priya Sharma", "Logged while memory was down.")) is False
    kept = await services.index.waiting(WORKSPACE)
    assert [c.note for c in kept] == ["Logged while memory was down."]
    assert (await services.index.known_prospects(WORKSPACE))[0].interactions == 1


async def test_a_kept_call_is_delivered_by_the_worker_with_nobody_logging_again(
    services: Services, unreachable_memory: ProspectMemory
) -> None:
    down = Services(memory=unreachable_memory, index=services.index, clock=services.clock)
    await log_call(down, call("Priya Sharma", "Kept while memory was down.", call_id="call-K1"))
    told: list[str] = []

    async def heard(kept: CallLog) -> None:
        told.append(kept.call_id)

    services.outbox.on_delivered = heard
    async with running(services.outbox):
        await wait_until_empty(services.index)
    timeline = await services.memory.timeline(WORKSPACE, "priya-sharma")
    assert [e.note for e in timeline] == ["Kept while memory was down."]
    assert told == ["call-K1"]


async def test_submitting_the_same_call_twice_keeps_and_stores_it_once(
    services: Services, unreachable_memory: ProspectMemory
) -> None:
    down = Services(memory=unreachable_memory, index=services.index, clock=services.clock)
    first = call("Priya Sharma", "Kept.", call_id="call-Vkept")
    assert await down.outbox.submit(first) is True
    assert await down.outbox.submit(first) is False
    assert [c.call_id for c in await services.index.waiting()] == ["call-Vkept"]
    assert (await services.index.known_prospects(WORKSPACE))[0].interactions == 1


async def test_a_burst_against_a_server_at_capacity_is_delivered_in_full_without_stampede(
    services: Services, capacity_proxy: CapacityProxy
) -> None:
    memory = ProspectMemory.connect(capacity_proxy.url, services.memory.bank_prefix)
    outbox = Outbox(services.index, memory, concurrency=4)
    burst = [
        call(f"Lead {n % 25:02d}", f"Burst note {n}.", call_id=f"call-B{n}") for n in range(200)
    ]
    try:
        async with running(outbox):
            # Eight clients submit at once, as Slack would deliver eight reps' modals.
            for start in range(0, len(burst), 8):
                await asyncio.gather(*(outbox.submit(c) for c in burst[start : start + 8]))
            await wait_until_empty(services.index, timeout=120)
    finally:
        await memory.aclose()
    assert capacity_proxy.rejected > 0, "the proxy never pushed back: the test proved nothing"
    # One worker, bounded: never more retains in flight than its concurrency.
    assert capacity_proxy.peak_in_flight <= 4
    assert sorted(capacity_proxy.retained) == sorted(c.call_id for c in burst)
    assert max(capacity_proxy.retained.values()) == 1, "a call was sent again after success"
    for lead in ("lead-00", "lead-24"):
        assert len(await services.memory.timeline(WORKSPACE, lead)) == 8


async def test_two_workers_sharing_one_database_never_send_a_call_twice(
    services: Services, capacity_proxy: CapacityProxy, index: LocalIndex
) -> None:
    capacity_proxy.max_retains = 64
    memory = ProspectMemory.connect(capacity_proxy.url, services.memory.bank_prefix)
    replicas = [Outbox(index, memory), Outbox(index, memory)]
    calls = [call("Anika Patel", f"Note {n}.", call_id=f"call-R{n}") for n in range(40)]
    try:
        for one in calls:
            await index.write_ahead(one)
        async with running(replicas[0]), running(replicas[1]):
            await wait_until_empty(index)
    finally:
        await memory.aclose()
    assert sorted(capacity_proxy.retained) == sorted(c.call_id for c in calls)
    assert set(capacity_proxy.retained.values()) == {1}


async def test_a_call_memory_refuses_is_kept_and_does_not_hold_up_the_others(
    services: Services, capacity_proxy: CapacityProxy
) -> None:
    capacity_proxy.refuse.add("call-BAD")
    memory = ProspectMemory.connect(capacity_proxy.url, services.memory.bank_prefix)
    outbox = Outbox(services.index, memory)
    await outbox.submit(call("Sarah Linden", "Refused.", call_id="call-BAD"))
    await outbox.submit(call("Sarah Linden", "Storable.", call_id="call-GOOD"))
    try:
        assert await outbox.drain_once() == 1
    finally:
        await memory.aclose()
    waiting = await services.index.waiting_details()
    assert [(w.call.call_id, w.attempts) for w in waiting] == [("call-BAD", 1)]
    assert "422" in (waiting[0].last_error or "")
    assert [e.note for e in await services.memory.timeline(WORKSPACE, "sarah-linden")] == [
        "Storable."
    ]
