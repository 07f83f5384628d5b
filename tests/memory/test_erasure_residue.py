"""An erased call leaves nothing in any table of the memory server's database (operation
payloads, facts, observations, entities, traces), while a kept call's text stays where it was."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from memory.embedded import EmbeddedHindsight, free_port
from memory.store import MemoryUnavailable, ProspectMemory
from tests.memory.test_memory_contract import WORKSPACE, call
from tests.memory.test_reasoning_memory import consolidated
from tests.support.memory_residue import residue


async def test_purging_an_erased_call_leaves_no_trace_of_it_on_the_memory_server(
    reasoning_memory: ProspectMemory, reasoning_hindsight_server: EmbeddedHindsight
) -> None:
    dsn = reasoning_hindsight_server.database_url()
    assert dsn is not None
    bank = reasoning_memory.bank_id(WORKSPACE)
    erased, kept = f"mk{uuid.uuid4().hex[:10]}", f"mk{uuid.uuid4().hex[:10]}"
    gone = call(
        f"Vexa {erased.capitalize()}",
        f"Talked to Vexa {erased.capitalize()} about pricing. Marker {erased} is too expensive.",
        call_id=f"call-{erased}",
    )
    stays = call(
        f"Orla {kept.capitalize()}",
        f"Talked to Orla {kept.capitalize()}. She wants a pilot; marker {kept} signs off.",
        call_id=f"call-{kept}",
    )
    await reasoning_memory.retain_call(gone)
    await reasoning_memory.retain_call(stays)
    await consolidated(reasoning_hindsight_server, bank)
    before = await asyncio.to_thread(residue, dsn, erased)
    # Facts and an entity were extracted, and the note waits in its operation's payload
    # (which deleting the document alone leaves): the search sees them all.
    assert {"memory_units.text", "entities.canonical_name"} <= set(before), before

    # Forgetting a call deletes its documents and purges what the server keeps of them.
    assert await reasoning_memory.forget_call(WORKSPACE, gone.call_id) == 1
    await consolidated(reasoning_hindsight_server, bank)

    assert await asyncio.to_thread(residue, dsn, erased) == []
    remaining = await asyncio.to_thread(residue, dsn, kept)
    assert {"memory_units.text", "entities.canonical_name"} <= set(remaining), remaining


async def test_a_purge_with_memorys_database_down_says_memory_is_unavailable() -> None:
    dsn = f"postgresql://hindsight:pw@127.0.0.1:{free_port()}/hindsight"  # nothing listens
    memory = ProspectMemory.connect(
        f"http://127.0.0.1:{free_port()}", "down", timeout=2.0, database_url=lambda: dsn
    )
    try:
        with pytest.raises(MemoryUnavailable):
            await memory.purge_erased(WORKSPACE, ["call-1"])
    finally:
        await memory.aclose()
