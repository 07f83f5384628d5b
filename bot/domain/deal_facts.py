"""Facts computed from a prospect's stored calls (days of silence among them), and a note as a
prompt or a memory-only brief shows it. The brief, the digest and the follow-up give these to
the model; it is never asked for them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from memory.records import TimelineEntry


@dataclass(frozen=True)
class BriefFacts:
    """Facts computed from stored call metadata; the model is given them, never asked."""

    today: date
    interactions: int
    first_contact: date | None
    last_contact: date | None
    days_since_contact: int | None
    last_outcome: str | None
    # NOTES_VISIBILITY=own: calls other reps logged, counted apart; every other fact comes
    # from the rep's own calls, since theirs are never read.
    teammates: int = 0

    @classmethod
    def from_timeline(
        cls, entries: list[TimelineEntry], today: date, teammates: int = 0
    ) -> BriefFacts:
        if not entries:
            return cls(today, 0, None, None, None, None, teammates)
        latest = max(entries, key=lambda e: (e.call_date, e.logged_at))
        return cls(
            today=today,
            interactions=len(entries),
            first_contact=min(e.call_date for e in entries),
            last_contact=latest.call_date,
            days_since_contact=(today - latest.call_date).days,
            last_outcome=latest.outcome_label,
            teammates=teammates,
        )

    @property
    def data_confidence(self) -> str:
        """How much memory there is to go on: few or old notes mean low confidence."""
        if self.interactions < 2 or (self.days_since_contact or 0) > 60:
            return "low"
        if self.interactions >= 4 and (self.days_since_contact or 0) <= 30:
            return "high"
        return "medium"


@dataclass(frozen=True)
class BriefNote:
    """A note as the prompt and the memory-only brief show it."""

    call_date: date | None
    outcome: str
    text: str
    kind: str = "call note"
    waiting: bool = False  # logged, not yet in memory
