"""With an LLM in memory, the brief stands on what memory worked out, not only on raw notes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bot.brief.prepare import make_brief
from bot.infra.llm import LlmClient
from bot.services import Services
from memory.index import LocalIndex
from memory.store import ProspectMemory
from tests.conftest import NOW
from tests.e2e.test_brief import GOOD_ANSWER, PRIYA_NOTES, call
from tests.memory.test_kept_calls import running, wait_until_empty
from tests.support.fake_groq import FakeGroq
from tests.support.fake_slack import TEAM_ID


def memory_block(prompt: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(prompt.split("<memory>\n", 1)[1].split("\n</memory>")[0])
    return data


async def test_the_brief_is_given_dated_labelled_facts_and_current_observations(
    reasoning_memory: ProspectMemory, index: LocalIndex, groq: FakeGroq
) -> None:
    llm = LlmClient("gsk-test", groq.base_url, "openai/gpt-oss-120b", timeout=5.0, max_retries=0)
    services = Services(memory=reasoning_memory, index=index, llm=llm, clock=lambda: NOW)
    try:
        async with running(services.outbox):
            for n, (day, outcome, note) in enumerate(PRIYA_NOTES):
                await services.outbox.submit(call("Priya Sharma", day, outcome, note, n))
            await wait_until_empty(index)
        deadline = asyncio.get_running_loop().time() + 60
        while not await reasoning_memory.recall_prospect(
            TEAM_ID, "priya-sharma", "Priya Sharma", "pilot", types=("observation",)
        ):
            assert asyncio.get_running_loop().time() < deadline, "no observation was formed"
            await asyncio.sleep(0.5)

        groq.script.append(("json", GOOD_ANSWER))
        result = await make_brief(services, TEAM_ID, "priya sharma")
    finally:
        await llm.aclose()

    block = memory_block(groq.user_prompt())
    decider = [f for f in block["facts"] if "Tom Reyes" in f["fact"]]
    assert decider and decider[0]["note_date"] == "2026-10-20"
    assert "stakeholder_role:decision_maker" in decider[0]["labels"]
    assert any("buying_signal:pilot" in f["labels"] for f in block["facts"])
    assert block["observations"], "the brief did not get memory's observations"
    # Each observation resolves, through its source facts, to the dated notes behind it.
    note_days = {day.isoformat() for day, _, _ in PRIYA_NOTES}
    for observed in block["observations"]:
        assert observed["note_dates"] and set(observed["note_dates"]) <= note_days, observed
    pilot = next(o for o in block["observations"] if "Pilot agreed" in o["observation"])
    assert pilot["note_dates"] == ["2026-11-10"]
    assert result.brief is not None and result.brief.score == 72
