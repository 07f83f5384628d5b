"""Asking with an LLM in memory: a pipeline question reads the facts memory extracted from the
rep's own notes, each dated by its note; another rep's notes never reach the model."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import date

from bot.infra.llm import LlmClient
from bot.services import Services
from memory.index import LocalIndex
from memory.store import ProspectMemory
from tests.conftest import NOW
from tests.e2e.conftest import start_bot
from tests.e2e.test_ask import KIM_NOTE, OTHER_REP, ask
from tests.e2e.test_brief import PRIYA_NOTES, call
from tests.memory.test_kept_calls import running, wait_until_empty
from tests.support import ask_model
from tests.support.blocks import render
from tests.support.fake_groq import FakeGroq
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.slack_requests import REP


async def test_a_pipeline_question_reads_dated_facts_from_the_reps_own_notes(
    reasoning_memory: ProspectMemory, index: LocalIndex, groq: FakeGroq, fake_slack: FakeSlack
) -> None:
    groq.default = ask_model.honest
    llm = LlmClient("gsk-test", groq.base_url, "openai/gpt-oss-120b", timeout=5.0, max_retries=0)
    services = Services(
        memory=reasoning_memory, index=index, llm=llm, clock=lambda: NOW, notes_visibility="own"
    )
    try:
        async with running(services.outbox):
            for n, (day, outcome, note) in enumerate(PRIYA_NOTES):
                await services.outbox.submit(call("Priya Sharma", day, outcome, note, n))
            kim = call("Kim Novak", date(2026, 11, 12), "neutral", KIM_NOTE, 7)
            await services.outbox.submit(replace(kim, rep_id=OTHER_REP, company="Globex"))
            await wait_until_empty(index)
        deadline = asyncio.get_running_loop().time() + 60
        while len(await reasoning_memory.recall_notes(TEAM_ID, "budget", REP)) < 3:
            assert asyncio.get_running_loop().time() < deadline, "no facts were extracted"
            await asyncio.sleep(0.5)

        server, bot = await start_bot(fake_slack, services)
        try:
            _, shown = await ask(bot, "which deals raised budget, discount or SOC2 worries?")
        finally:
            await server.close()
    finally:
        await llm.aclose()

    given = ask_model.given_notes(groq.requests[-1])
    note_days = {day.isoformat(): note for day, _, note in PRIYA_NOTES}
    assert given, "the model was given nothing"
    for fact in given:
        # Memory's facts, not whole notes: each a sentence of the note it is dated by.
        assert fact["prospect"].startswith("Priya Sharma"), fact
        assert fact["text"].rstrip(".") in note_days[fact["date"]], fact
    prompt = json.dumps(given)
    assert "Kim" not in prompt and "SOC2" not in prompt and "40%" not in prompt
    rendered = render(shown["blocks"])
    assert "Priya Sharma · 15 Sep" in rendered and "Kim Novak" not in rendered
    assert "Searched 1 prospect" in rendered
