"""What memory worked out from a prospect's notes (with an LLM): facts, each dated by its note
and labelled (e.g. objection:pricing), and current observations, for the brief's prompt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from memory.records import TRANSCRIPT_TYPE, RecalledMemory

FINDINGS_BUDGET_CHARS = 12_000  # facts and observations memory extracted (with an LLM)


@dataclass(frozen=True)
class MemoryFinding:
    """What memory worked out from the notes (with an LLM): an extracted fact, dated by the
    note it came from and labelled (e.g. objection:pricing), or a current observation."""

    text: str
    source_date: date | None  # a fact's note; an observation's latest note
    labels: tuple[str, ...] = ()
    observation: bool = False
    note_dates: tuple[date, ...] = ()  # every note behind it, oldest first


_NOT_LABELS = ("prospect:", "rep:", "type:")


def findings_from(
    recalled: list[RecalledMemory], budget: int = FINDINGS_BUDGET_CHARS
) -> list[MemoryFinding]:
    """Facts and observations among recalled memories, most relevant first, within `budget`;
    one that traces to no dated note (an observation whose evidence is gone) is left out."""
    found: list[MemoryFinding] = []
    used = 0
    for memory in recalled:
        if memory.kind not in ("world", "experience", "observation"):
            continue
        if memory.metadata.get("type") == TRANSCRIPT_TYPE or used + len(memory.text) > budget:
            continue
        labels = tuple(t for t in memory.tags if not t.startswith(_NOT_LABELS))
        observation = memory.kind == "observation"
        if observation:
            dates = tuple(sorted({when for _, when in memory.sources}))
        else:
            dates = (memory.call_date,) if memory.call_date else ()
        if not dates:
            continue  # traces to no note: nothing a brief could cite
        found.append(MemoryFinding(memory.text, dates[-1], labels, observation, dates))
        used += len(memory.text)
    return found
