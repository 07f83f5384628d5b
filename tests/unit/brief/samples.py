"""Timeline entries and a schema-valid model answer shared by the brief tests."""

from datetime import date, timedelta
from typing import Any

from memory.records import TimelineEntry

TODAY = date(2026, 11, 10)
CLAIM_DAY = "2026-11-03"
MENTIONS = "<!channel> <@U1> <https://x|y>"


def entry(
    days_ago: int,
    note: str = "Discussed the pilot.",
    outcome: str = "positive",
    call_id: str | None = None,
    logged_at: str = "09:00",
) -> TimelineEntry:
    when = TODAY - timedelta(days=days_ago)
    return TimelineEntry(
        call_id=call_id or f"c{days_ago}",
        prospect="James Okafor",
        call_date=when,
        outcome=outcome,
        rep_id="U0REP",
        note=note,
        has_transcript=False,
        logged_at=f"{when.isoformat()}T{logged_at}:00+00:00",
    )


def objection(kind: str, text: str, raised: str, resolved: str = "") -> dict[str, Any]:
    status = "resolved" if resolved else "open"
    return {
        "kind": kind,
        "text": text,
        "status": status,
        "raised_date": raised,
        "resolved_date": resolved,
    }


def commitment(by: str, text: str, made: str, due: str = "", done: str = "") -> dict[str, Any]:
    status = "done" if done else "open"
    return {
        "by": by,
        "text": text,
        "made_date": made,
        "due_date": due,
        "status": status,
        "done_date": done,
    }


def answer(**changes: Any) -> dict[str, Any]:
    """An answer matching prompts/brief_schema.json; every claim dated CLAIM_DAY."""
    day = CLAIM_DAY
    base: dict[str, Any] = {
        "score": 55,
        "label": "Engaged",
        "momentum": "improving",
        "confidence": "high",
        "summary": "Pilot agreed; budget still pending.",
        "objections": [objection("pricing", "Price too high", day)],
        "budget_signals": [{"text": "Budget approved for Q1", "source_date": day}],
        "competitors": [{"name": "Gong", "text": "Also evaluating Gong", "source_date": day}],
        "decision_makers": [
            {
                "name": "Ada",
                "role": "decision_maker",
                "authority": "CFO, signs off",
                "source_date": day,
            }
        ],
        "commitments": [commitment("us", "Send the pilot plan", day)],
        "risks": [{"text": "Legal review is slow", "source_date": day}],
        "focus": [{"text": "Confirm the pilot scope", "source_date": day}],
        "recommended_action": {"text": "Send Ada the pilot plan.", "source_date": day},
    }
    return base | changes
