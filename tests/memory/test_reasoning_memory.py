"""The memory contract with an LLM: the real Hindsight extracts facts (through the loopback
Groq) into a bank set up for sales, and keeps observations per prospect."""

from __future__ import annotations

import asyncio

from memory.store import ProspectMemory
from tests.memory.test_memory_contract import WORKSPACE, call
from tests.support.threaded_groq import ThreadedGroq

PRIYA = [
    "Priya said the price is too high for this quarter. She wants a discount before Q3.",
    "Tom Reyes is the CFO and signs off on every tool purchase.",
    "They agreed to a four-week pilot starting Monday.",
]
JAMES = ["James thinks our pricing is steep compared with Stripe."]


async def retain_all(memory: ProspectMemory, prospect: str, notes: list[str], **kw: str) -> None:
    for n, note in enumerate(notes):
        await memory.retain_call(call(prospect, note, call_id=f"call-{prospect[:4]}-{n}", **kw))


async def test_a_reasoning_server_is_told_apart_from_chunks_mode(
    reasoning_memory: ProspectMemory, memory: ProspectMemory
) -> None:
    assert await reasoning_memory.reasons() is True
    assert await memory.reasons() is False


async def test_each_workspace_bank_is_set_up_for_sales_at_first_use(
    reasoning_memory: ProspectMemory,
) -> None:
    await retain_all(reasoning_memory, "Priya Sharma", PRIYA[:1])
    config = await reasoning_memory.bank_config(WORKSPACE)
    assert "objections" in config["retain_mission"]
    labels = {group["key"]: group for group in config["entity_labels"]}
    assert set(labels) == {"objection", "buying_signal", "stakeholder_role"}
    assert all(group["tag"] for group in labels.values())
    assert {"pricing", "security_compliance", "competitor"} <= {
        v["value"] for v in labels["objection"]["values"]
    }
    assert config["default_observation_scopes"] == [["prospect:*"]]


async def test_notes_become_facts_tagged_with_the_prospect_and_objection_kind(
    reasoning_memory: ProspectMemory, reasoning_groq: ThreadedGroq
) -> None:
    await retain_all(reasoning_memory, "Priya Sharma", PRIYA)
    pricing = await reasoning_memory.recall_prospect(
        WORKSPACE, "priya-sharma", "Priya Sharma", "pricing", also_tagged=("objection:pricing",)
    )
    assert pricing, "no fact was tagged objection:pricing"
    assert all("price" in m.text or "discount" in m.text for m in pricing)
    assert all("prospect:priya-sharma" in m.tags for m in pricing)
    assert all(m.document_id == "call-Priy-0" for m in pricing if m.kind != "observation")
    decider = await reasoning_memory.recall_prospect(
        WORKSPACE,
        "priya-sharma",
        "Priya Sharma",
        "who signs off",
        also_tagged=("stakeholder_role:decision_maker",),
        types=("world",),
    )
    assert [m.text.split(" | ")[0] for m in decider] == [PRIYA[1]]
    # The model saw the note alone as content, who and when only as context.
    prompt = next(p for p in reasoning_groq.extraction_prompts() if PRIYA[0] in p)
    assert prompt.split("Content:\n", 1)[1].strip() == PRIYA[0]
    assert "Context: Sales call with Priya Sharma (Paysend)" in prompt


async def test_observations_are_kept_per_prospect(reasoning_memory: ProspectMemory) -> None:
    await retain_all(reasoning_memory, "Priya Sharma", PRIYA[:1])
    await retain_all(reasoning_memory, "James Okafor", JAMES)
    for slug, name in (("priya-sharma", "Priya Sharma"), ("james-okafor", "James Okafor")):
        deadline = asyncio.get_running_loop().time() + 60
        while not (
            seen := await reasoning_memory.recall_prospect(
                WORKSPACE, slug, name, "pricing", types=("observation",)
            )
        ):
            assert asyncio.get_running_loop().time() < deadline, f"no observation for {name}"
            await asyncio.sleep(0.5)
        assert all(m.tags == (f"prospect:{slug}",) for m in seen)


async def test_prospects_and_workspaces_never_mix(reasoning_memory: ProspectMemory) -> None:
    await retain_all(reasoning_memory, "Priya Sharma", PRIYA[:1])
    await retain_all(reasoning_memory, "James Okafor", JAMES)
    await retain_all(reasoning_memory, "Priya Sharma", JAMES, workspace="T0OTHER")
    recalled = await reasoning_memory.recall_prospect(
        WORKSPACE, "priya-sharma", "Priya Sharma", "pricing", also_tagged=("objection:pricing",)
    )
    assert recalled and not any("Stripe" in m.text for m in recalled)
    other = await reasoning_memory.recall_prospect(
        "T0OTHER", "priya-sharma", "Priya Sharma", "pricing", types=("world",)
    )
    assert other and all("Stripe" in m.text for m in other)


async def test_the_same_call_retained_twice_keeps_one_note_and_one_set_of_facts(
    reasoning_memory: ProspectMemory,
) -> None:
    once = call("Anika Patel", "Legal is reviewing the DPA. Security wants SOC 2.", call_id="c-A")
    await reasoning_memory.retain_call(once)
    first = await reasoning_memory.recall_prospect(
        WORKSPACE, "anika-patel", "Anika Patel", "DPA", types=("world",)
    )
    await reasoning_memory.retain_call(once)
    again = await reasoning_memory.recall_prospect(
        WORKSPACE, "anika-patel", "Anika Patel", "DPA", types=("world",)
    )
    assert len(again) == len(first) == 2
    timeline = await reasoning_memory.timeline(WORKSPACE, "anika-patel")
    assert [e.note for e in timeline] == [once.note]  # verbatim, once


async def test_forgetting_a_prospect_removes_its_facts(reasoning_memory: ProspectMemory) -> None:
    await retain_all(reasoning_memory, "Priya Sharma", PRIYA)
    await reasoning_memory.forget_prospect(WORKSPACE, "priya-sharma")
    left = await reasoning_memory.recall_prospect(
        WORKSPACE, "priya-sharma", "Priya Sharma", "pricing", types=("world",)
    )
    assert left == []
    assert await reasoning_memory.timeline(WORKSPACE, "priya-sharma") == []
