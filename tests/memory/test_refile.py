"""Notes stored as text only are read by memory's LLM once it has one, each only once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.infra.memory_setup import sales_bank_setup
from bot.infra.refile import refile_text_notes
from bot.log.calls import log_call
from bot.services import Services
from memory.embedded import EmbeddedHindsight, HindsightLlm
from memory.index import LocalIndex
from memory.store import ProspectMemory
from tests.memory.test_memory_contract import WORKSPACE, call
from tests.memory.test_reasoning_memory import PRIYA
from tests.support.threaded_groq import ThreadedGroq


async def test_notes_stored_as_text_are_refiled_once_memory_has_an_llm(
    tmp_path: Path, index: LocalIndex, reasoning_groq: ThreadedGroq
) -> None:
    plain = EmbeddedHindsight(tmp_path)
    url = await asyncio.to_thread(plain.start)
    try:
        memory = ProspectMemory.connect(url, "refile", plain.api_key, setup=sales_bank_setup())
        text_only = Services(memory=memory, index=index)
        for n, note in enumerate(PRIYA):
            assert await log_call(text_only, call("Priya Sharma", note, call_id=f"call-R{n}"))
        assert await memory.reasons() is False
        assert await refile_text_notes(text_only) == 0  # nothing can read them yet
        await memory.aclose()
    finally:
        await asyncio.to_thread(plain.stop)

    llm = HindsightLlm("gsk-test", "openai/gpt-oss-20b", reasoning_groq.openai_base)
    reasoning = EmbeddedHindsight(tmp_path, llm=llm)
    url = await asyncio.to_thread(reasoning.start)
    try:
        memory = ProspectMemory.connect(url, "refile", reasoning.api_key, setup=sales_bank_setup())
        services = Services(memory=memory, index=index)
        assert sorted(await memory.filed_as_text(WORKSPACE)) == ["call-R0", "call-R1", "call-R2"]
        assert await refile_text_notes(services) == 3
        deadline = asyncio.get_running_loop().time() + 90
        while not await memory.recall_prospect(
            WORKSPACE, "priya-sharma", "Priya Sharma", "price", also_tagged=("objection:pricing",)
        ):
            assert asyncio.get_running_loop().time() < deadline, "no fact was extracted"
            await asyncio.sleep(0.5)
        # Each note once: a second run (or the next start) hands nothing over again.
        assert await refile_text_notes(services) == 0
        timeline = await memory.timeline(WORKSPACE, "priya-sharma")
        assert sorted(e.note for e in timeline) == sorted(PRIYA)  # still verbatim
        await memory.aclose()
    finally:
        await asyncio.to_thread(reasoning.stop)
