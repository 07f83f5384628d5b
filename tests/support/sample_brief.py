"""A believable brief for the README's picture, made the way the bot makes one: five logged
calls, a model answer that must pass the brief schema and the score check, claims traced to the
notes' dates, then the brief view."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from bot.brief.answer import brief_from_answer, check_brief_answer
from bot.brief.changes import BriefChanges
from bot.brief.prepare import BRIEF_TASK, BriefResult
from bot.brief.view import build_brief_blocks
from bot.domain.deal_facts import BriefFacts, BriefNote
from bot.domain.prospect_lookup import ProspectMatch
from bot.infra.llm import parse_answer
from memory.records import TimelineEntry
from prompts import load_schema

TODAY = date(2026, 11, 10)
NAME = "Priya Sharma"
CALLS = [
    (
        "2026-09-15",
        "positive",
        "Intro with Priya, Head of RevOps at Northwind. 40 reps keep call "
        "notes in spreadsheets; she wants one place before the Q1 kickoff.",
    ),
    (
        "2026-10-01",
        "objection",
        "Priya says our price is 30% above Gong's notes add-on they are "
        "also trialling. Asked for an annual-commitment discount.",
    ),
    (
        "2026-10-14",
        "objection",
        "Northwind security wants our SOC 2 report and an answer on EU "
        "data residency before legal will look at the contract. I promised both by 14 Nov.",
    ),
    (
        "2026-10-28",
        "positive",
        "Demo for Daniel Cho (CFO, signs anything over $50k). Q1 budget is "
        "approved pending security. I said I'd send a pilot plan by 5 Nov: 12 reps, 6 weeks.",
    ),
    (
        "2026-11-06",
        "positive",
        "Priya accepted the annual discount: pricing settled. She sent back "
        "their security questionnaire; the security review is not booked yet.",
    ),
]


def _entries() -> list[TimelineEntry]:
    return [
        TimelineEntry(
            call_id=f"call-{day}",
            prospect=NAME,
            call_date=date.fromisoformat(day),
            outcome=outcome,
            rep_id="U0REP",
            note=note,
            has_transcript=False,
            logged_at=f"{day}T16:30:00+00:00",
        )
        for day, outcome, note in CALLS
    ]


def model_answer() -> dict[str, Any]:
    """What the model answers for Priya, every claim dated with the note it comes from."""

    def claim(text: str, day: str) -> dict[str, str]:
        return {"text": text, "source_date": day}

    return {
        "score": 68,
        "label": "Hot",
        "momentum": "improving",
        "confidence": "high",
        "summary": "Northwind wants one place for 40 reps' call notes before its Q1 kickoff. "
        "Pricing is settled with an annual discount; what stands between Priya and a signed "
        "pilot is the security review, which needs our SOC 2 report and an EU data-residency "
        "answer.",
        "objections": [
            {
                "kind": "pricing",
                "text": "30% above Gong's notes add-on",
                "status": "resolved",
                "raised_date": "2026-10-01",
                "resolved_date": "2026-11-06",
            },
            {
                "kind": "security_compliance",
                "text": "SOC 2 report and EU data residency needed before legal review",
                "status": "open",
                "raised_date": "2026-10-14",
                "resolved_date": "",
            },
        ],
        "budget_signals": [claim("Q1 budget approved, pending the security review", "2026-10-28")],
        "competitors": [
            {"name": "Gong", "text": "trialling its notes add-on", "source_date": "2026-10-01"}
        ],
        "decision_makers": [
            {
                "name": "Daniel Cho",
                "role": "decision_maker",
                "authority": "CFO, signs anything over $50k",
                "source_date": "2026-10-28",
            },
            {
                "name": "Priya Sharma",
                "role": "champion",
                "authority": "runs the evaluation",
                "source_date": "2026-09-15",
            },
        ],
        "commitments": [
            _promise("us", "a pilot plan (12 reps, 6 weeks)", "2026-10-28", "2026-11-05"),
            _promise(
                "us", "the SOC 2 report and a data-residency answer", "2026-10-14", "2026-11-14"
            ),
            _promise(
                "prospect", "their security questionnaire", "2026-10-14", "", done="2026-11-06"
            ),
        ],
        "risks": [
            claim("Legal only starts after security signs off; Q1 slips if it waits", "2026-10-14")
        ],
        "focus": [
            claim("Who runs Northwind's security review, and when it can start", "2026-11-06"),
            claim("Pilot scope: 12 reps for 6 weeks", "2026-10-28"),
        ],
        "recommended_action": claim(
            "Send the pilot plan today with the SOC 2 report, and ask Priya to book the "
            "security review this week.",
            "2026-11-06",
        ),
    }


def _promise(by: str, text: str, made: str, due: str, done: str = "") -> dict[str, str]:
    return {
        "by": by,
        "text": text,
        "made_date": made,
        "due_date": due,
        "status": "done" if done else "open",
        "done_date": done,
    }


def sample_brief_result() -> BriefResult:
    """Priya's brief, through the checks a real model answer goes through."""
    answer, problems = parse_answer(
        json.dumps(model_answer()), load_schema(BRIEF_TASK.schema), check_brief_answer
    )
    if answer is None:
        raise ValueError(f"the sample answer fails the brief's checks: {problems}")
    entries = _entries()
    brief = brief_from_answer(answer, {e.call_date for e in entries})
    notes = [BriefNote(e.call_date, e.outcome_label, e.note) for e in entries]
    match = ProspectMatch(NAME, "priya-sharma", NAME, known=True, suggestions=[])
    changes = BriefChanges(
        since=datetime(2026, 11, 3, 9, 12, tzinfo=UTC),
        new_notes=entries[-1:],
    )
    facts = BriefFacts.from_timeline(entries, TODAY)
    return BriefResult(match, facts, notes, brief=brief, changes=changes)


def sample_brief_blocks() -> list[dict[str, Any]]:
    return build_brief_blocks(sample_brief_result())
