"""The model's brief after checking: what can be traced to a dated note is kept, the rest dropped.

The model writes dates; code decides whether they stand. An objection stays only if the note
that raised it exists; it counts as resolved only if a later note exists that it cites for the
resolution. The same holds for commitments and the note that says they were kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

logger = logging.getLogger(__name__)

SCORE_BANDS = [(20, "Cold"), (40, "Warming up"), (60, "Engaged"), (80, "Hot"), (100, "Closing")]
WE = "us"  # a commitment the rep's side made ("you promised …")


@dataclass(frozen=True)
class Claim:
    text: str
    source_date: date | None
    detail: str = ""  # a competitor's name


@dataclass(frozen=True)
class Objection:
    kind: str  # pricing, security_compliance, … (the bank's objection labels) or other
    text: str
    raised: date
    resolved: date | None = None  # the date of the note that says it was resolved

    @property
    def is_open(self) -> bool:
        return self.resolved is None


@dataclass(frozen=True)
class DecisionMaker:
    name: str
    role: str  # decision_maker, approver, champion, influencer, blocker, unknown
    authority: str  # what they decide or sign off on, as the notes say ("" when unsaid)
    source_date: date


@dataclass(frozen=True)
class Commitment:
    by: str  # WE or "prospect"
    text: str
    made: date
    due: date | None = None
    done: date | None = None  # the date of the note that says it was kept

    @property
    def is_open(self) -> bool:
        return self.done is None

    def overdue(self, today: date) -> bool:
        return self.is_open and self.due is not None and self.due < today


@dataclass(frozen=True)
class Brief:
    """The model's answer after checking: every claim traceable to a dated note."""

    score: int
    label: str
    momentum: str
    confidence: str
    summary: str
    objections: list[Objection]
    budget_signals: list[Claim]
    competitors: list[Claim]
    decision_makers: list[DecisionMaker]
    commitments: list[Commitment]
    risks: list[Claim]
    focus: list[Claim]
    recommended_action: Claim


def label_for_score(score: int) -> str:
    return next(label for top, label in SCORE_BANDS if score <= top)


def check_brief_answer(answer: dict[str, Any]) -> list[str]:
    """What the schema cannot say: the score's range."""
    score = answer.get("score")
    if not isinstance(score, int) or not 0 <= score <= 100:
        return [f"score: {score!r} is not between 0 and 100"]
    return []


class _Tracer:
    """Traces an answer's claims to the dates of the notes it was given."""

    def __init__(self, note_dates: set[date]) -> None:
        self.note_dates = note_dates

    def noted(self, value: Any) -> date | None:
        when = _date(value)
        return when if when in self.note_dates else None

    def later(self, value: Any, since: date) -> date | None:
        when = self.noted(value)
        return when if when is not None and when >= since else None

    def traced(
        self,
        items: list[dict[str, Any]],
        make: Callable[[dict[str, Any], date], Any],
        when_key: str = "source_date",
    ) -> list[Any]:
        kept = []
        for item in items:
            when = self.noted(item.get(when_key))
            if when is None:
                # The claim quotes the notes: its text only at DEBUG.
                logger.info("Dropped a claim with no matching note")
                logger.debug("The dropped claim: %r", item)
                continue
            kept.append(make(item, when))
        return kept

    def objection(self, item: dict[str, Any], raised: date) -> Objection:
        resolved = None
        if item["status"] == "resolved":
            resolved = self.later(item.get("resolved_date"), raised)
        return Objection(item["kind"], _text(item.get("text")), raised, resolved)

    def commitment(self, item: dict[str, Any], made: date) -> Commitment:
        done = self.later(item.get("done_date"), made) if item["status"] == "done" else None
        due = _date(item.get("due_date"))
        return Commitment(item["by"], _text(item.get("text")), made, due, done)


def _claim(item: dict[str, Any], when: date, detail: str = "") -> Claim:
    return Claim(_text(item.get("text")), when, detail)


def _decision_maker(item: dict[str, Any], when: date) -> DecisionMaker:
    authority = _text(item.get("authority"))
    return DecisionMaker(_text(item.get("name")), item["role"], authority, when)


def brief_from_answer(answer: dict[str, Any], note_dates: set[date]) -> Brief:
    """Keep what can be traced: a claim whose date matches no note is dropped; a resolution or
    a kept promise that cites no later note is not believed (the item stays open)."""
    tracer = _Tracer(note_dates)
    traced = tracer.traced
    action = answer["recommended_action"]
    score = int(answer["score"])
    # The label follows the score's band, except "At risk", which overrides any score.
    label = answer["label"] if answer["label"] == "At risk" else label_for_score(score)
    return Brief(
        score=score,
        label=label,
        momentum=answer["momentum"],
        confidence=answer["confidence"],
        summary=_text(answer["summary"]),
        objections=traced(answer["objections"], tracer.objection, "raised_date"),
        budget_signals=traced(answer["budget_signals"], _claim),
        competitors=traced(answer["competitors"], lambda i, w: _claim(i, w, _text(i.get("name")))),
        decision_makers=traced(answer["decision_makers"], _decision_maker),
        commitments=traced(answer["commitments"], tracer.commitment, "made_date"),
        risks=traced(answer["risks"], _claim),
        focus=traced(answer["focus"], _claim),
        recommended_action=Claim(_text(action["text"]), tracer.noted(action.get("source_date"))),
    )


def _text(value: Any) -> str:
    return str(value or "").strip()


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
