"""Listed memory units put back together into calls, and how the digest prompt shows a
prospect's notes, and the gather over a memory whose listing falls short: no servers."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from hindsight_client_api.models.memory_unit_list_item import MemoryUnitListItem

from bot.digest.gather import ProspectContext, gather_contexts
from bot.digest.ranking import build_digest_prompt
from bot.domain.deal_facts import BriefFacts, BriefNote
from bot.services import Services
from memory.index import LocalIndex
from memory.records import CallLog, ListedCall, TimelineEntry
from memory.rep_notes import RepNote, notes_from_units
from tests.memory.test_memory_contract import WORKSPACE, call

TODAY = date(2026, 11, 23)


def unit(
    call_id: str | None,
    text: str,
    chunk: int = 0,
    mentioned: str = "2026-11-02T12:00:00+00:00",
    labels: tuple[str, ...] = (),
    day: str = "2026-11-02",
    slug: str = "priya-sharma",
    **extra: Any,
) -> MemoryUnitListItem:
    meta = {"prospect": "Priya Sharma", "prospect_slug": slug, "date": day, "rep": "U1"}
    return MemoryUnitListItem(
        id=f"u-{call_id}-{chunk}-{text[:12]}",
        text=text,
        document_id=call_id,
        chunk_id=f"bank_{call_id}_{chunk}",
        mentioned_at=mentioned,
        fact_type=extra.pop("fact_type", "world"),
        tags=[f"prospect:{slug}", "rep:U1", "type:call_log", *labels],
        metadata={**meta, "outcome": "objection", "content": "note", **extra},
    )


def test_a_long_notes_chunks_are_put_back_in_order_and_calls_newest_first() -> None:
    notes = notes_from_units(
        [
            unit("call-old", "Old call.", day="2026-10-01"),
            unit("call-new", "second part.", chunk=1),
            unit("call-new", "First part,", chunk=0),
        ]
    )
    assert [(n.entry.call_id, n.entry.note) for n in notes] == [
        ("call-new", "First part, second part."),
        ("call-old", "Old call."),
    ]
    assert notes[0].slug == "priya-sharma" and notes[0].entry.outcome == "objection"
    assert notes[0].entry.call_date == date(2026, 11, 2) and notes[0].labels == ()


def test_facts_of_a_note_keep_the_notes_order_and_their_labels() -> None:
    notes = notes_from_units(
        [
            unit("c1", "She wants a discount.", mentioned="2026-11-02T12:00:00.010000+00:00"),
            unit("c1", "The price is too high.", labels=("objection:pricing",)),
            unit("c1", "Observation.", fact_type="observation"),
            unit(None, "No call."),
        ]
    )
    assert [(n.entry.note, n.labels) for n in notes] == [
        ("The price is too high. She wants a discount.", ("objection:pricing",))
    ]


def test_a_note_from_before_notes_were_retained_alone_loses_its_header() -> None:
    (old,) = notes_from_units(
        [unit("c1", "Prospect: Priya Sharma\nOutcome: Positive\nNote:\nPilot agreed.", content="")]
    )
    assert old.entry.note == "Pilot agreed."


def context(
    notes: int, relevant: list[int], labels: dict[str, date] | None = None
) -> ProspectContext:
    """Notes n = 0 (the latest, three days ago) … back in time, each 200 characters."""
    made = [
        BriefNote(TODAY - timedelta(days=3 + 7 * n), "Positive", f"Note {n:02d} " + "x" * 192)
        for n in range(notes)
    ]
    facts = BriefFacts(TODAY, notes, made[-1].call_date, made[0].call_date, 3, "Positive")
    return ProspectContext(
        "priya-sharma",
        "Priya Sharma",
        "Acme",
        facts,
        made,
        [made[n] for n in relevant],
        labels or {},
    )


def shown(contexts: list[ProspectContext], budget: int) -> dict[str, Any]:
    prompt = build_digest_prompt(contexts, TODAY, token_budget=budget)
    data: dict[str, Any] = json.loads(prompt.split("<prospects>\n")[1].split("\n</prospects>")[0])[
        0
    ]
    return data


def test_an_older_note_recall_ranked_relevant_takes_room_beside_the_newest() -> None:
    budget = 1_200  # room for six or seven of the 200-character notes
    plain = shown([context(20, [])], budget)
    newest = [n["text"][:7] for n in plain["notes_newest_first"]]
    assert newest[0] == "Note 00" and "Note 15" not in newest
    assert "earlier_notes_on_risks" not in plain

    with_old = shown([context(20, [15, 0, 12])], budget)  # note 0 is shown anyway
    assert [n["text"][:7] for n in with_old["earlier_notes_on_risks"]] == ["Note 15", "Note 12"]
    kept = [n["text"][:7] for n in with_old["notes_newest_first"]]
    assert kept[0] == "Note 00" and len(kept) < len(newest)


def test_a_history_that_fits_needs_no_earlier_note_and_labels_are_shown_with_dates() -> None:
    data = shown([context(3, [2], {"objection:pricing": date(2026, 9, 1)})], 24_000)
    assert [n["text"][:7] for n in data["notes_newest_first"]] == ["Note 00", "Note 01", "Note 02"]
    assert "earlier_notes_on_risks" not in data
    assert data["labels_in_history"] == {"objection:pricing": "2026-09-01"}


class ListingMisses:
    """Memory whose listing of a rep's notes lacks some calls (with an LLM, a note memory found
    no fact in has no memory unit), though its document listing has them."""

    def __init__(self, listed: list[CallLog], documents: list[CallLog]) -> None:
        self.listed = [RepNote(c.slug, TimelineEntry.from_call(c, pending=False)) for c in listed]
        self.documents = documents
        self.documents_listed: list[str] = []

    async def rep_notes(self, workspace_id: str, rep_id: str) -> list[RepNote]:
        return self.listed

    async def recall_rep_notes(self, *args: Any, **kwargs: Any) -> list[Any]:
        raise AssertionError("no recall when every history fits")

    async def listed_calls(self, workspace_id: str, slug: str) -> list[ListedCall]:
        self.documents_listed.append(slug)
        return [
            ListedCall(c.call_id, c.prospect, c.call_date, c.outcome, c.rep_id, False, "", 0)
            for c in self.documents
            if c.slug == slug
        ]


async def test_calls_the_listing_lacks_still_count_in_the_facts(index: LocalIndex) -> None:
    seen = call("Priya Sharma", "Pilot scoped.", day=date(2026, 11, 2), outcome="positive")
    unlisted = call("Priya Sharma", "Voicemail.", day=date(2026, 11, 9), outcome="no_response")
    james = call("James Okafor", "Sent the SLA.", day=date(2026, 11, 5))
    for logged in (seen, unlisted, james):
        await index.record_delivered_call(logged)
    memory = ListingMisses([seen, james], [seen, unlisted, james])
    services = Services(memory=memory, index=index)  # type: ignore[arg-type]

    contexts = await gather_contexts(
        services, WORKSPACE, "U0REP1", TODAY, notes_chars=lambda n: 10_000
    )

    priya = next(c for c in contexts if c.name == "Priya Sharma")
    facts = priya.facts
    assert (facts.interactions, facts.last_contact, facts.last_outcome) == (
        2,
        date(2026, 11, 9),
        "No response",
    )
    assert [n.text for n in priya.notes] == ["", "Pilot scoped."]
    assert memory.documents_listed == ["priya-sharma"]  # only where the listing fell short
