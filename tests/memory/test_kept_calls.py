"""A call logged while Hindsight is down is kept, then delivered once it answers again."""

from __future__ import annotations

from bot.calls import log_call
from bot.services import Services
from memory.store import ProspectMemory
from tests.memory.test_memory_contract import WORKSPACE, call


async def test_kept_call_is_delivered_with_the_next_logged_call(
    services: Services, unreachable_memory: ProspectMemory
) -> None:
    down = Services(memory=unreachable_memory, index=services.index, clock=services.clock)
    kept = await log_call(down, call("Priya Sharma", "Logged while memory was down."))
    assert kept.stored is False
    assert [c.note for c in services.index.pending(WORKSPACE)] == ["Logged while memory was down."]

    stored = await log_call(services, call("James Okafor", "Logged once it was back."))
    assert stored.stored is True
    assert services.index.pending() == []
    timeline = await services.memory.timeline(WORKSPACE, "priya-sharma")
    assert [e.note for e in timeline] == ["Logged while memory was down."]


async def test_retrying_a_kept_call_that_fails_again_keeps_it_once(
    services: Services, unreachable_memory: ProspectMemory
) -> None:
    down = Services(memory=unreachable_memory, index=services.index, clock=services.clock)
    first = call("Priya Sharma", "Kept.", call_id="call-Vkept")
    await log_call(down, first)
    await log_call(down, first)
    assert [c.call_id for c in services.index.pending()] == ["call-Vkept"]
    assert services.index.known_prospects(WORKSPACE)[0].interactions == 1
