"""The seeds' five prospects, logged through the modal into memory that reasons (an LLM extracts
facts and keeps observations), then briefed: open and resolved objections, who decides and on
what, open commitments on both sides, each with the date of the note it stands on."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.infra.llm import LlmClient
from bot.services import Services
from memory.embedded import EmbeddedHindsight
from memory.index import LocalIndex
from memory.store import ProspectMemory
from tests.conftest import NOW
from tests.e2e.conftest import RunningBot, start_bot
from tests.e2e.test_brief import brief
from tests.e2e.test_log_and_timeline import open_log_modal, submit
from tests.memory.test_kept_calls import wait_until_empty
from tests.memory.test_reasoning_memory import consolidated
from tests.support.blocks import render
from tests.support.fake_groq import FakeGroq
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.unit.brief.samples import commitment, objection

# (prospect, company, date, outcome, note): seed 000's pipeline, Priya's deal told in full.
SEED_NOTES = [
    ("Priya Sharma", "Rentokil", "2026-09-15", "objection",
     "Budget frozen until Q3 and the price feels high. She worries about onboarding her team."),
    ("Priya Sharma", "Rentokil", "2026-10-20", "positive",
     "Loved the ROI calculator. Tom Reyes, the CFO, signs off on anything over 50k."),
    ("Priya Sharma", "Rentokil", "2026-11-03", "positive",
     "Budget was approved for Q4. I promised to send the HubSpot migration plan by 12 Nov."),
    ("Priya Sharma", "Rentokil", "2026-11-10", "pilot_agreed",
     "Pilot agreed for 20 seats. Data migration from HubSpot worries her. "
     "She will send the security questionnaire."),
    ("James Okafor", "Paysend", "2026-10-01", "objection",
     "API reliability concerns. Stripe quoted a lower price."),
    ("James Okafor", "Paysend", "2026-11-13", "neutral",
     "Sent the security report after the technical deep dive. No reply yet."),
    ("Sarah Linden", "Fetch Rewards", "2026-09-20", "no_response",
     "Went quiet during a reorg."),
    ("Sarah Linden", "Fetch Rewards", "2026-11-05", "positive",
     "Reconnected after six weeks. She asked for pricing for 10 seats."),
    ("Marcus Webb", "Trainline", "2026-11-02", "positive",
     "Budget is approved, Q4 timeline. He asked for a lunch-and-learn with his 8 reps."),
    ("Anika Patel", "GoCardless", "2026-10-28", "objection",
     "GDPR compliance is a hard gate. The DPA must be signed before anything moves."),
    ("Anika Patel", "GoCardless", "2026-11-12", "neutral",
     "Their legal team is reviewing the DPA."),
]  # fmt: skip
PRIYA = [n for n in SEED_NOTES if n[0] == "Priya Sharma"]

# What a model answers from that prompt. Two claims cite dates no note has: one objection
# (dropped) and the day a commitment was "kept" (not believed: it stays open).
PRIYA_BRIEF: dict[str, Any] = {
    "score": 68,
    "label": "Hot",
    "momentum": "improving",
    "confidence": "high",
    "summary": "Budget approved and a pilot agreed; the HubSpot migration is the open worry.",
    "objections": [
        objection("pricing", "Budget frozen until Q3", "2026-09-15", resolved="2026-11-03"),
        objection("integration", "Data migration from HubSpot", "2026-11-10"),
        objection("need", "Onboarding her team", "2026-09-15"),
        objection("competitor", "Evaluating Gong", "2026-11-01"),
    ],
    "budget_signals": [{"text": "Budget approved for Q4", "source_date": "2026-11-03"}],
    "competitors": [],
    "decision_makers": [
        {
            "name": "Tom Reyes",
            "role": "decision_maker",
            "authority": "CFO; signs off on anything over 50k",
            "source_date": "2026-10-20",
        }
    ],
    "commitments": [
        commitment("us", "the HubSpot migration plan", "2026-11-03", "2026-11-12", "2026-11-14"),
        commitment("prospect", "the security questionnaire", "2026-11-10"),
    ],
    "risks": [{"text": "Migration could stall the pilot", "source_date": "2026-11-10"}],
    "focus": [{"text": "Walk her through the migration plan", "source_date": "2026-11-10"}],
    "recommended_action": {
        "text": "Send the HubSpot migration plan today; it is overdue.",
        "source_date": "2026-11-03",
    },
}


@pytest.fixture
async def seeded_bot(
    fake_slack: FakeSlack,
    reasoning_memory: ProspectMemory,
    reasoning_hindsight_server: EmbeddedHindsight,
    index: LocalIndex,
    groq: FakeGroq,
) -> AsyncIterator[RunningBot]:
    """The bot on memory that reasons, with the seeds' notes logged through the modal."""
    llm = LlmClient("gsk-test", groq.base_url, "openai/gpt-oss-120b", timeout=5.0, max_retries=0)
    services = Services(memory=reasoning_memory, index=index, llm=llm, clock=lambda: NOW)
    server, bot = await start_bot(fake_slack, services)
    try:
        for n, (prospect, company, day, outcome, note) in enumerate(SEED_NOTES):
            view = await open_log_modal(bot, prospect)
            answer = await submit(
                bot,
                view,
                view_id=f"V{n}",
                prospect=prospect,
                company=company,
                call_date=day,
                outcome=outcome,
                note=note,
            )
            assert answer == {}, answer
            # Calls happen days apart: memory has worked each note in before the next.
            await wait_until_empty(index)
            await consolidated(reasoning_hindsight_server, reasoning_memory.bank_id(TEAM_ID))
        yield bot
    finally:
        await server.close()
        await llm.aclose()


def memory_block(prompt: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(prompt.split("<memory>\n", 1)[1].split("\n</memory>")[0])
    return data


async def test_briefs_track_objections_deciders_and_commitments_and_the_timeline_stays_verbatim(
    seeded_bot: RunningBot, groq: FakeGroq
) -> None:
    groq.script.append(("json", PRIYA_BRIEF))
    _, shown = await brief(seeded_bot, "priya")

    # The model was given what memory worked out, each piece dated by the note behind it.
    prompt = groq.user_prompt()
    block = memory_block(prompt)
    facts = {f["fact"]: f for f in block["facts"]}
    labelled = {
        label: sorted(f["note_date"] for f in facts.values() if label in f["labels"])
        for label in ("objection:pricing", "buying_signal:budget_approved")
    }
    assert "2026-09-15" in labelled["objection:pricing"], block
    assert labelled["buying_signal:budget_approved"] == ["2026-11-03"]
    decider = next(f for text, f in facts.items() if "Tom Reyes" in text)
    assert decider["note_date"] == "2026-10-20"
    assert "stakeholder_role:decision_maker" in decider["labels"]
    priya_days = {day for _, _, day, _, _ in PRIYA}
    assert block["observations"]
    for observed in block["observations"]:
        assert set(observed["note_dates"]) <= priya_days, observed
    # Memory compounds: the budget freeze of 15 Sep was updated by the approval of 3 Nov,
    # and that one observation stands on both notes.
    budget = [o for o in block["observations"] if "frozen" in o["observation"]]
    assert len(budget) == 1 and "approved" in budget[0]["observation"], budget
    assert budget[0]["note_dates"] == ["2026-09-15", "2026-11-03"]
    # Nothing about another prospect reaches Priya's brief.
    for prospect, _, _, _, note in SEED_NOTES:
        if prospect != "Priya Sharma":
            assert note not in prompt
            assert not any(note.split(".")[0] in text for text in facts)

    rendered = render(shown["blocks"])
    assert "68/100 · Hot" in rendered
    assert "🔴 *Integration*: Data migration from HubSpot _(raised 10 Nov 2026)_" in rendered
    assert "~Pricing~: Budget frozen until Q3 _(raised 15 Sep 2026, resolved 03 Nov 2026)_" in (
        rendered
    )
    assert "Evaluating Gong" not in rendered  # raised on a day with no note
    assert "*Tom Reyes* · decision maker — CFO; signs off on anything over 50k" in rendered
    # "Sent on 14 Nov" cites no note, so the promise still stands, and it is late.
    assert (
        "*You* promised the HubSpot migration plan on 03 Nov 2026; ⚠️ overdue since 12 Nov 2026"
        in rendered
    )
    assert "*They* promised the security questionnaire on 10 Nov 2026; not done yet" in rendered

    # The timeline still shows every note verbatim, newest first.
    status, _ = await seeded_bot.send.command("/timeline", "Priya Sharma")
    assert status == 200
    shown = (await seeded_bot.slack.wait_for("respond", 2))[-1]
    rendered = render(shown["blocks"])
    notes = [note for _, _, _, _, note in reversed(PRIYA)]
    positions = [rendered.find(note) for note in notes]
    assert -1 not in positions, rendered
    assert positions == sorted(positions)  # newest first
