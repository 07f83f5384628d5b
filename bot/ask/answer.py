"""An answer to a question, as code checked it: sentences that each cite the notes they stand
on, the notes read, and what was dropped. No I/O: the view reads these."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.ask.scope import Scope
from bot.domain.grounding import Grounds

SHOWN_WHEN_UNANSWERED = 8  # notes shown verbatim when there is no checked answer


@dataclass(frozen=True)
class Source:
    """A note (or with an LLM in memory, what it extracted from one) the model may cite."""

    ref: str  # what the model cites: "n1", "n2" …
    call_id: str
    slug: str
    prospect: str  # the display name
    company: str
    call_date: date | None
    outcome: str
    text: str


def quoted_sources(sources: Sequence[Source]) -> str:
    """The sources as JSON data for the <notes> tag ("<" escaped so no note closes it)."""
    data = [
        {
            "id": s.ref,
            "prospect": f"{s.prospect} ({s.company})" if s.company else s.prospect,
            "date": s.call_date.isoformat() if s.call_date else "unknown",
            "outcome": s.outcome,
            "text": s.text,
        }
        for s in sources
    ]
    return json.dumps(data, ensure_ascii=False, indent=1).replace("<", "\\u003c")


@dataclass(frozen=True)
class Turn:
    """An earlier question in the same conversation, and the answer it got."""

    question: str
    answer: str = ""


def framing(question: str, scope: Scope, today: date, earlier: Sequence[Turn]) -> tuple[str, str]:
    """What a question's prompt says around what memory holds: today, what was searched and
    the period first; the conversation so far and the question (quoted data) last."""
    searched = (
        f"the prospects {', '.join(p.name for p in scope.named)}"
        if scope.named
        else f"the rep's whole pipeline ({scope.searched} prospects)"
    )
    period = (
        f"{scope.period.start.isoformat()} to {scope.period.end.isoformat()}"
        if scope.period
        else "all time"
    )
    conversation = json.dumps(
        [{"question": t.question, "answer": t.answer} for t in earlier[-4:]], ensure_ascii=False
    ).replace("<", "\\u003c")
    asked = json.dumps(question, ensure_ascii=False).replace("<", "\\u003c")
    return (
        f"Today: {today.isoformat()}\nSearched: {searched}; period: {period}.",
        f"Earlier in this conversation (data):\n<conversation>{conversation}</conversation>\n\n"
        f"The rep's question (data):\n<question>{asked}</question>",
    )


@dataclass(frozen=True)
class Cited:
    """A sentence of the answer and the notes it stands on."""

    text: str
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class AskAnswer:
    question: str
    scope: Scope
    sentences: list[Cited] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)  # the notes read (shown when unanswered)
    dropped: int = 0  # sentences taken out: they stated what their notes do not hold
    fallback_reason: str | None = None  # why the notes are shown verbatim instead
    answer_found: bool = True  # False: the model found no answer in the notes

    @property
    def cited(self) -> list[Source]:
        """The notes the answer stands on, in the order first cited."""
        seen: dict[str, Source] = {}
        for sentence in self.sentences:
            for source in sentence.sources:
                seen.setdefault(source.ref, source)
        return list(seen.values())

    @property
    def shown(self) -> list[Source]:
        """The notes the message quotes: the answer's sources, or the notes shown as typed."""
        if self.sentences:
            return self.cited
        return self.verbatim if self.fallback_reason is not None else []

    @property
    def verbatim(self) -> list[Source]:
        """The notes shown as they were typed when there is no checked answer: newest first."""
        undated = date.min
        ordered = sorted(self.sources, key=lambda s: s.call_date or undated, reverse=True)
        return ordered[:SHOWN_WHEN_UNANSWERED]


def checked_sentences(answer: dict[str, Any], sources: Sequence[Source]) -> tuple[list[Cited], int]:
    """The answer's sentences that cite only notes the model was given and state nothing those
    notes do not hold, and how many were dropped."""
    by_ref = {source.ref: source for source in sources}
    kept: list[Cited] = []
    dropped = 0
    for item in answer.get("sentences", []):
        text = " ".join(str(item.get("text", "")).split())
        refs = list(dict.fromkeys(str(r).strip() for r in item.get("note_ids", [])))
        if not text:
            continue
        cited = tuple(by_ref[r] for r in refs if r in by_ref)
        if not cited or len(cited) != len(refs) or _unfounded(text, cited):
            dropped += 1
            continue
        kept.append(Cited(text, cited))
    return kept, dropped


def _unfounded(text: str, cited: Sequence[Source]) -> bool:
    """Whether `text` states a name, date, amount, count or code its notes do not hold (the
    prospects' own names and companies count as held)."""
    texts = [s.text for s in cited] + [s.prospect for s in cited] + [s.company for s in cited]
    dates = [s.call_date for s in cited if s.call_date is not None]
    return bool(Grounds.of(texts, dates).unfounded(text))
