"""The digest gathers a rep's whole pipeline from one listing of the real Hindsight: newest notes
verbatim, facts from dates, waiting calls marked, nobody else's notes, and a number of requests
that does not grow with the notes (counted by a loopback proxy in front of the server)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest

from bot.digest.gather import gather_contexts
from bot.digest.ranking import build_digest_prompt
from bot.log.calls import log_call
from bot.services import Services
from memory.records import CallLog
from memory.store import MemoryUnavailable, ProspectMemory
from tests.memory.test_memory_contract import WORKSPACE, call
from tests.support.hindsight_proxy import CapacityProxy

TODAY = date(2026, 11, 20)
# Sentences the loopback model labels as pricing, decision maker and pilot (its own words:
# other tests find their notes among the extraction prompts of the shared server).
LABELLED = [
    "Nadia finds the pricing too steep for this year.",
    "Omar Haddad is the COO and signs off on the purchase.",
    "They want a two-week trial first.",
]
REP, OTHER = "U0REP1", "U0REP2"
LONG = "Priya walked through the rollout plan with her team in detail. " * 8  # 520 chars


def note_of(prospect: str, n: int, rep: str = REP, text: str | None = None) -> CallLog:
    """A prospect's n-th call back in time (0 = the latest, two days ago)."""
    return call(
        prospect,
        text or f"{prospect}, call {n}: asked about rollout step {n} and the price per seat.",
        day=TODAY - timedelta(days=2 + 7 * n),
        rep=rep,
        call_id=f"call-{rep}-{prospect.split()[0]}-{n:02d}",
        outcome=("positive", "objection", "no_response")[n % 3],
    )


def prompt_data(prompt: str) -> dict[str, dict[str, object]]:
    data = json.loads(prompt.split("<prospects>\n")[1].split("\n</prospects>")[0])
    return {p["name"]: p for p in data}


async def test_a_context_holds_the_newest_notes_verbatim_and_facts_from_their_dates(
    services: Services,
) -> None:
    for n in range(4):
        await log_call(services, note_of("Priya Sharma", n, text=f"Call {n}. {LONG}"))
    await log_call(services, note_of("James Okafor", 0, text="Sent the security report."))

    contexts = {c.name: c for c in await gather_contexts(services, WORKSPACE, REP, TODAY)}

    priya = contexts["Priya Sharma"]
    assert [n.text for n in priya.notes] == [f"Call {n}. {LONG}"[:300] for n in range(4)]
    assert [n.call_date for n in priya.notes] == [
        TODAY - timedelta(days=2 + 7 * n) for n in range(4)
    ]
    facts = priya.facts
    assert (facts.interactions, facts.first_contact, facts.last_contact) == (
        4,
        TODAY - timedelta(days=23),
        TODAY - timedelta(days=2),
    )
    assert (facts.days_since_contact, facts.last_outcome) == (2, "Positive")
    assert [n.text for n in contexts["James Okafor"].notes] == ["Sent the security report."]
    shown = prompt_data(build_digest_prompt(list(contexts.values()), TODAY))
    assert shown["Priya Sharma"]["days_of_silence"] == 2
    assert shown["James Okafor"]["notes_newest_first"] == [
        {"date": "2026-11-18", "outcome": "Positive", "text": "Sent the security report."}
    ]


async def test_calls_still_on_their_way_to_memory_are_included_and_marked(
    services: Services,
) -> None:
    await log_call(services, note_of("Priya Sharma", 3))
    await services.outbox.submit(note_of("Priya Sharma", 0, text="Pilot agreed today."))
    assert len(await services.index.waiting(WORKSPACE)) == 1

    (priya,) = await gather_contexts(services, WORKSPACE, REP, TODAY)

    assert [(n.text, n.waiting) for n in priya.notes] == [
        ("Pilot agreed today.", True),
        (note_of("Priya Sharma", 3).note, False),
    ]
    assert (priya.facts.interactions, priya.facts.days_since_contact) == (2, 2)
    latest = prompt_data(build_digest_prompt([priya], TODAY))["Priya Sharma"]
    assert latest["notes_newest_first"][0] == {  # type: ignore[index]
        "date": "2026-11-18",
        "outcome": "Positive",
        "text": "Pilot agreed today.",
        "waiting_to_reach_memory": True,
    }


async def test_another_reps_prospects_and_notes_are_never_included(services: Services) -> None:
    await log_call(services, note_of("Priya Sharma", 1, text="Mine: the pilot is scoped."))
    await log_call(services, note_of("Priya Sharma", 0, rep=OTHER, text="Theirs: CFO call."))
    await log_call(services, note_of("Sarah Linden", 0, rep=OTHER, text="Theirs: 10 seats."))
    await services.outbox.submit(note_of("Sarah Linden", 1, rep=OTHER, text="Theirs, waiting."))

    contexts = await gather_contexts(services, WORKSPACE, REP, TODAY)

    assert [c.name for c in contexts] == ["Priya Sharma"]
    assert [n.text for n in contexts[0].notes] == ["Mine: the pilot is scoped."]
    assert contexts[0].facts.interactions == 1
    assert "Theirs" not in build_digest_prompt(contexts, TODAY)


async def test_memory_down_is_memory_unavailable(
    services: Services, unreachable_memory: ProspectMemory
) -> None:
    await log_call(services, note_of("Priya Sharma", 0))
    down = Services(memory=unreachable_memory, index=services.index, clock=services.clock)
    with pytest.raises(MemoryUnavailable):
        await gather_contexts(down, WORKSPACE, REP, TODAY)


@pytest.fixture
async def through_proxy(
    services: Services, capacity_proxy: CapacityProxy
) -> AsyncIterator[Services]:
    memory = ProspectMemory.connect(capacity_proxy.url, services.memory.bank_prefix)
    yield Services(memory=memory, index=services.index, clock=services.clock)
    await memory.aclose()


async def test_the_requests_do_not_grow_with_the_notes_per_prospect(
    services: Services, through_proxy: Services, capacity_proxy: CapacityProxy
) -> None:
    """5 prospects x 3 notes and 5 prospects x 12 notes cost the same requests: one listing
    page each (no document read per note, no query embedding per prospect)."""

    async def requests_for(rep: str, notes: int) -> Counter[str]:
        for p in range(5):
            for n in range(notes):
                await log_call(services, note_of(f"Lead{p} of {rep}", n, rep=rep))
        capacity_proxy.requests.clear()
        contexts = await gather_contexts(through_proxy, WORKSPACE, rep, TODAY)
        assert [len(c.notes) for c in contexts] == [notes] * 5
        return Counter(path.split("/", 5)[-1] for _, path in capacity_proxy.requests)

    few, many = await requests_for("U0FEW", 3), await requests_for("U0MANY", 12)
    assert few == many == Counter({"memories/list": 1})


async def test_one_recall_for_the_whole_pipeline_keeps_an_old_budget_freeze_in_the_prompt(
    services: Services, through_proxy: Services, capacity_proxy: CapacityProxy
) -> None:
    """When a history is longer than the prompt keeps, one recall across the rep's notes finds
    the old note that still matters; it is shown beside the newest notes."""
    freeze = "The CFO froze all new tool budget until Q3; nothing can be signed before then."
    for n in range(20):
        text = freeze if n == 15 else None
        await log_call(services, note_of("Priya Sharma", n, text=text))
    for n in range(3):
        await log_call(services, note_of("James Okafor", n))
    capacity_proxy.requests.clear()

    contexts = await gather_contexts(
        through_proxy, WORKSPACE, REP, TODAY, notes_chars=lambda prospects: 1_000
    )

    paths = Counter(path.rsplit("/", 1)[-1] for _, path in capacity_proxy.requests)
    assert paths == Counter({"list": 1, "recall": 1})
    priya = next(c for c in contexts if c.name == "Priya Sharma")
    assert priya.relevant[0].text == freeze
    shown = prompt_data(build_digest_prompt(contexts, TODAY, token_budget=1_400))
    newest = shown["Priya Sharma"]["notes_newest_first"]
    assert freeze not in json.dumps(newest)  # by date alone it would be left out
    earlier = shown["Priya Sharma"]["earlier_notes_on_risks"]
    assert earlier[0]["text"] == freeze  # type: ignore[index]
    assert "earlier_notes_on_risks" not in shown["James Okafor"]  # all its notes fit


async def test_with_an_llm_a_note_is_its_facts_in_order_with_their_labels(
    reasoning_memory: ProspectMemory, services: Services
) -> None:
    reasoning = Services(memory=reasoning_memory, index=services.index, clock=services.clock)
    logged = note_of("Nadia Rahman", 1, text=" ".join(LABELLED))
    await reasoning_memory.retain_call(logged)  # filed: its facts extracted
    await services.index.record_delivered_call(logged)

    (nadia,) = await gather_contexts(reasoning, WORKSPACE, REP, TODAY)

    # One fact per sentence (the loopback model's extraction), back in the note's order.
    assert [n.text for n in nadia.notes] == [" ".join(LABELLED)]
    assert nadia.facts.interactions == 1
    assert set(nadia.labels) >= {
        "objection:pricing",
        "stakeholder_role:decision_maker",
        "buying_signal:pilot",
    }
    shown = prompt_data(build_digest_prompt([nadia], TODAY))["Nadia Rahman"]
    assert shown["labels_in_history"]["objection:pricing"] == "2026-11-11"  # type: ignore[index]
