"""A timeline page reads memory's listing once and the notes of that page only, against the
real Hindsight (requests counted by a loopback proxy in front of it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest

from bot.services import Services
from bot.timeline.history import PAGE_ENTRIES, prospect_timeline
from memory.store import ProspectMemory
from tests.memory.test_memory_contract import WORKSPACE, call
from tests.support.hindsight_proxy import CapacityProxy

CALLS = 25


def note(n: int) -> str:
    # Mentions, entities, non-ASCII and a trailing newline: the timeline shows notes verbatim.
    return f"Call {n:02d}: <@U999> asked about R&D pricing — café ☕ 🚀.\n  Next: DPA.\n"


def day(n: int) -> date:
    return date(2026, 10, n)


@pytest.fixture
async def counted(services: Services, capacity_proxy: CapacityProxy) -> AsyncIterator[Services]:
    """25 notes for Priya Sharma in memory; services reading memory through the counting proxy."""
    for n in range(1, CALLS + 1):
        await services.memory.retain_call(
            call("Priya Sharma", note(n), day=day(n), call_id=f"call-P{n:02d}")
        )
    memory = ProspectMemory.connect(capacity_proxy.url, services.memory.bank_prefix)
    yield Services(memory=memory, index=services.index, clock=services.clock)
    await memory.aclose()


def reads(proxy: CapacityProxy) -> tuple[int, int, int]:
    """(document listings, single-document reads, every request) since the log was cleared."""
    listings = sum(1 for m, path in proxy.requests if m == "GET" and path.endswith("/documents"))
    documents = sum(1 for m, path in proxy.requests if m == "GET" and "/documents/" in path)
    return listings, documents, len(proxy.requests)


async def test_a_page_is_one_listing_and_the_notes_it_shows(
    counted: Services, capacity_proxy: CapacityProxy
) -> None:
    capacity_proxy.requests.clear()
    first = await prospect_timeline(counted, WORKSPACE, "Priya Sharma")
    assert [e.note for e in first.entries] == [note(n) for n in range(25, 15, -1)]
    assert (first.count, first.page, first.pages) == (25, 0, 3)
    assert first.last_contact == day(25)
    assert reads(capacity_proxy) == (1, PAGE_ENTRIES, 1 + PAGE_ENTRIES)

    capacity_proxy.requests.clear()
    last = await prospect_timeline(counted, WORKSPACE, "Priya Sharma", page=2)
    assert [e.note for e in last.entries] == [note(n) for n in range(5, 0, -1)]
    assert (last.count, last.page, last.pages) == (25, 2, 3)
    assert reads(capacity_proxy) == (1, 5, 6)


async def test_a_call_still_waiting_takes_its_place_without_a_read(
    counted: Services, capacity_proxy: CapacityProxy
) -> None:
    await counted.index.write_ahead(call("Priya Sharma", "Still on its way.", day=day(26)))
    capacity_proxy.requests.clear()
    first = await prospect_timeline(counted, WORKSPACE, "Priya Sharma")
    assert [(e.note, e.pending) for e in first.entries[:2]] == [
        ("Still on its way.", True),
        (note(25), False),
    ]
    assert len(first.entries) == PAGE_ENTRIES and (first.count, first.pages) == (26, 3)
    assert reads(capacity_proxy) == (1, PAGE_ENTRIES - 1, PAGE_ENTRIES)

    second = await prospect_timeline(counted, WORKSPACE, "Priya Sharma", page=1)
    assert [e.note for e in second.entries] == [note(n) for n in range(16, 6, -1)]


async def test_the_listing_gives_each_notes_length_so_pages_never_move(
    counted: Services,
) -> None:
    listed = await counted.memory.listed_calls(WORKSPACE, "priya-sharma")
    assert [c.call_id for c in listed] == [f"call-P{n:02d}" for n in range(25, 0, -1)]
    assert [c.length for c in listed] == [len(note(n)) for n in range(25, 0, -1)]


async def test_the_full_history_still_has_every_note_newest_first(counted: Services) -> None:
    entries = await counted.memory.timeline(WORKSPACE, "priya-sharma")
    assert [e.note for e in entries] == [note(n) for n in range(25, 0, -1)]
    assert {(e.outcome, e.rep_id, e.has_transcript) for e in entries} == {
        ("neutral", "U0REP1", False)
    }


async def test_a_note_forgotten_between_listing_and_reading_is_left_out(
    counted: Services,
) -> None:
    listed = await counted.memory.listed_calls(WORKSPACE, "priya-sharma")
    bank = counted.memory.bank_id(WORKSPACE)
    await counted.memory._client.documents.delete_document(bank, listed[1].call_id)
    entries = await counted.memory.with_notes(WORKSPACE, listed[:3])
    assert [e.note for e in entries] == [note(25), note(23)]
