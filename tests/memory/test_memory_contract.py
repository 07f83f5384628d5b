"""The memory contract, against the real Hindsight server this test session started."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from memory.records import CallLog
from memory.store import MemoryUnavailable, ProspectMemory

WORKSPACE = "T0ACME"


def call(
    prospect: str,
    note: str,
    day: date = date(2026, 11, 2),
    rep: str = "U0REP1",
    workspace: str = WORKSPACE,
    call_id: str | None = None,
    outcome: str = "neutral",
    transcript: str | None = None,
) -> CallLog:
    return CallLog(
        call_id=call_id or f"call-{uuid.uuid4().hex[:10]}",
        workspace_id=workspace,
        prospect=prospect,
        company="Paysend",
        rep_id=rep,
        call_date=day,
        outcome=outcome,
        note=note,
        transcript=transcript,
        logged_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
    )


async def test_retained_note_is_recalled_with_its_call_date(memory: ProspectMemory) -> None:
    await memory.retain_call(call("James Okafor", "He raised API reliability concerns."))
    recalled = await memory.recall_prospect(WORKSPACE, "james-okafor", "James Okafor")
    assert any("API reliability concerns" in m.text for m in recalled)
    assert {m.call_date for m in recalled} == {date(2026, 11, 2)}
    assert all(m.metadata["prospect_slug"] == "james-okafor" for m in recalled)


async def test_two_prospects_never_see_each_others_notes(memory: ProspectMemory) -> None:
    await memory.retain_call(call("James Okafor", "Competitor pricing came up; Stripe is cheaper."))
    await memory.retain_call(call("Priya Sharma", "Budget frozen until Q3; pricing is sensitive."))
    recalled = await memory.recall_prospect(
        WORKSPACE, "priya-sharma", "Priya Sharma", query="pricing and competitors"
    )
    texts = " ".join(m.text for m in recalled)
    assert "Budget frozen" in texts
    assert "Stripe" not in texts
    timeline = await memory.timeline(WORKSPACE, "james-okafor")
    assert [e.note for e in timeline] == ["Competitor pricing came up; Stripe is cheaper."]


async def test_two_workspaces_never_see_each_others_banks(memory: ProspectMemory) -> None:
    await memory.retain_call(call("Priya Sharma", "Acme's private note.", workspace="T0ACME"))
    await memory.retain_call(call("Priya Sharma", "Globex's private note.", workspace="T0GLOBEX"))
    assert memory.bank_id("T0ACME") != memory.bank_id("T0GLOBEX")
    acme = await memory.recall_prospect("T0ACME", "priya-sharma", "Priya Sharma")
    assert [m.text for m in acme if "private note" in m.text] and all(
        "Globex" not in m.text for m in acme
    )
    globex = await memory.timeline("T0GLOBEX", "priya-sharma")
    assert [e.note for e in globex] == ["Globex's private note."]


async def test_retaining_the_same_document_id_twice_keeps_one(memory: ProspectMemory) -> None:
    await memory.retain_call(call("Marcus Webb", "Budget confirmed.", call_id="call-V1"))
    await memory.retain_call(call("Marcus Webb", "Budget confirmed for Q4.", call_id="call-V1"))
    timeline = await memory.timeline(WORKSPACE, "marcus-webb")
    assert [e.note for e in timeline] == ["Budget confirmed for Q4."]
    summaries = await memory.workspace_prospects(WORKSPACE)
    assert [(s.slug, s.interactions) for s in summaries] == [("marcus-webb", 1)]


async def test_forget_removes_every_document_of_a_prospect_only(memory: ProspectMemory) -> None:
    await memory.retain_call(call("Anika Patel", "GDPR is a hard gate.", transcript="Long talk."))
    await memory.retain_call(call("Anika Patel", "Legal is reviewing the DPA."))
    await memory.retain_call(call("Sarah Linden", "Asked for pricing for 10 seats."))
    assert await memory.forget_prospect(WORKSPACE, "anika-patel") == 3  # two calls, one transcript
    assert await memory.timeline(WORKSPACE, "anika-patel") == []
    assert await memory.recall_prospect(WORKSPACE, "anika-patel", "Anika Patel") == []
    assert len(await memory.timeline(WORKSPACE, "sarah-linden")) == 1


async def test_timeline_lists_calls_newest_first_with_who_and_outcome(
    memory: ProspectMemory,
) -> None:
    for day, outcome in [(3, "objection"), (20, "pilot_agreed"), (11, "positive")]:
        await memory.retain_call(
            call("Priya Sharma", f"Call on the {day}th.", day=date(2026, 10, day), outcome=outcome)
        )
    timeline = await memory.timeline(WORKSPACE, "priya-sharma")
    assert [e.call_date.day for e in timeline] == [20, 11, 3]
    assert [e.outcome for e in timeline] == ["pilot_agreed", "positive", "objection"]
    assert {e.rep_id for e in timeline} == {"U0REP1"}


async def test_transcript_is_recalled_but_the_timeline_shows_the_note(
    memory: ProspectMemory,
) -> None:
    await memory.retain_call(
        call("James Okafor", "Deep dive went well.", transcript="We discussed the 99.99% SLA.")
    )
    timeline = await memory.timeline(WORKSPACE, "james-okafor")
    assert [(e.note, e.has_transcript) for e in timeline] == [("Deep dive went well.", True)]
    recalled = await memory.recall_prospect(
        WORKSPACE, "james-okafor", "James Okafor", query="SLA uptime guarantee"
    )
    assert any("99.99% SLA" in m.text for m in recalled)


async def test_names_typed_differently_are_one_prospect(memory: ProspectMemory) -> None:
    await memory.retain_call(call("priya  SHARMA", "First call."))
    await memory.retain_call(call("Príya Sharma", "Second call."))
    timeline = await memory.timeline(WORKSPACE, "priya-sharma")
    assert sorted(e.note for e in timeline) == ["First call.", "Second call."]


async def test_a_reps_prospects_are_listed_with_last_contact_and_count(
    memory: ProspectMemory,
) -> None:
    await memory.retain_call(call("James Okafor", "One.", day=date(2026, 10, 1), rep="U0A"))
    await memory.retain_call(call("James Okafor", "Two.", day=date(2026, 11, 5), rep="U0A"))
    await memory.retain_call(call("Marcus Webb", "Three.", day=date(2026, 10, 9), rep="U0A"))
    await memory.retain_call(call("Sarah Linden", "Other rep.", rep="U0B"))
    mine = await memory.rep_prospects(WORKSPACE, "U0A")
    assert [(p.name, p.interactions, p.last_contact) for p in mine] == [
        ("James Okafor", 2, date(2026, 11, 5)),
        ("Marcus Webb", 1, date(2026, 10, 9)),
    ]


async def test_a_workspace_with_no_calls_has_empty_memory(memory: ProspectMemory) -> None:
    assert await memory.timeline("T0EMPTY", "nobody") == []
    assert await memory.recall_prospect("T0EMPTY", "nobody", "Nobody") == []
    assert await memory.rep_prospects("T0EMPTY", "U0A") == []


async def test_unreachable_hindsight_raises_memory_unavailable(
    unreachable_memory: ProspectMemory,
) -> None:
    assert await unreachable_memory.ping() is False
    with pytest.raises(MemoryUnavailable):
        await unreachable_memory.retain_call(call("James Okafor", "Lost?"))
    with pytest.raises(MemoryUnavailable):
        await unreachable_memory.timeline(WORKSPACE, "james-okafor")


async def test_an_unreadable_answer_counts_as_memory_unavailable() -> None:
    app = web.Application()

    async def proxy_error(request: web.Request) -> web.Response:
        return web.Response(text="<html>502 Bad Gateway</html>", content_type="text/html")

    app.router.add_route("*", "/{tail:.*}", proxy_error)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    memory = ProspectMemory.connect(str(server.make_url("")).rstrip("/"), "proxy")
    try:
        with pytest.raises(MemoryUnavailable):
            await memory.retain_call(call("James Okafor", "Kept, not lost."))
        with pytest.raises(MemoryUnavailable):
            await memory.timeline(WORKSPACE, "james-okafor")
    finally:
        await memory.aclose()
        await server.close()


async def test_a_long_transcript_is_cut_into_chunks_the_embedding_model_reads_whole(
    memory: ProspectMemory,
) -> None:
    sentences = [f"Point {n}: the buyer asked about rollout step {n} in detail." for n in range(90)]
    transcript = " ".join(sentences)
    assert len(transcript) > 4500
    long_call = call("Lena Fischer", "Long call; transcript attached.", transcript=transcript)
    await memory.retain_call(long_call)
    config = await memory.bank_config(WORKSPACE)
    assert config["retain_chunk_size"] == 1000
    chunks = await memory._client.alist_memories(
        memory.bank_id(WORKSPACE), document_id=f"{long_call.call_id}-transcript"
    )
    assert chunks.total >= 5
    assert all(len(item.text) <= 1100 for item in chunks.items)
    # The end of the transcript is findable, not only its first 1,000 characters.
    found = await memory.recall_prospect(WORKSPACE, "lena-fischer", "Lena Fischer", sentences[-1])
    assert any("Point 89" in m.text for m in found[:3])
