"""What memory stores about a call, and how it is written into and read back from Hindsight."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime

from memory.prospects import prospect_slug

# The fixed outcome list: key stored in metadata -> the words a rep (and a model) reads.
OUTCOMES: dict[str, str] = {
    "positive": "Positive",
    "neutral": "Neutral",
    "objection": "Objection raised",
    "no_response": "No response",
    "pilot_agreed": "Pilot / trial agreed",
    "closed_won": "Closed won",
    "closed_lost": "Closed lost",
}

CALL_LOG_TYPE = "call_log"
TRANSCRIPT_TYPE = "transcript"
_NOTE_MARKER = "\nNote:\n"


def prospect_tag(slug: str) -> str:
    return f"prospect:{slug}"


def rep_tag(rep_id: str) -> str:
    return f"rep:{rep_id}"


def type_tag(kind: str) -> str:
    return f"type:{kind}"


@dataclass(frozen=True)
class CallLog:
    """One logged call, as the rep typed it."""

    call_id: str
    workspace_id: str
    prospect: str
    company: str | None
    rep_id: str
    call_date: date
    outcome: str
    note: str
    transcript: str | None
    logged_at: datetime

    @property
    def slug(self) -> str:
        return prospect_slug(self.prospect)

    @property
    def outcome_label(self) -> str:
        return OUTCOMES.get(self.outcome, self.outcome)

    def content(self) -> str:
        """The free text retained in Hindsight: self-describing, so recall reads well on its own."""
        who = f"{self.prospect} ({self.company})" if self.company else self.prospect
        return (
            f"Sales call with {who} on {self.call_date:%d %B %Y} ({self.call_date.isoformat()}).\n"
            f"Outcome: {self.outcome_label}.\n"
            f"Logged by rep {self.rep_id}."
            f"{_NOTE_MARKER}{self.note}"
        )

    def transcript_content(self) -> str:
        return (
            f"Transcript of the sales call with {self.prospect} on "
            f"{self.call_date.isoformat()}:\n{self.transcript}"
        )

    def metadata(self, kind: str = CALL_LOG_TYPE) -> dict[str, str]:
        """Hindsight metadata: strings only (an int fails the client's validation)."""
        return {
            "prospect": self.prospect,
            "prospect_slug": self.slug,
            "company": self.company or "",
            "outcome": self.outcome,
            "rep": self.rep_id,
            "date": self.call_date.isoformat(),
            "logged_at": self.logged_at.isoformat(),
            "type": kind,
            "has_transcript": "yes" if self.transcript else "no",
        }

    def tags(self, kind: str = CALL_LOG_TYPE) -> list[str]:
        return [prospect_tag(self.slug), rep_tag(self.rep_id), type_tag(kind)]

    def to_json(self) -> str:
        data = asdict(self)
        data["call_date"] = self.call_date.isoformat()
        data["logged_at"] = self.logged_at.isoformat()
        return json.dumps(data)

    @classmethod
    def from_json(cls, raw: str) -> CallLog:
        data = json.loads(raw)
        data["call_date"] = date.fromisoformat(data["call_date"])
        data["logged_at"] = datetime.fromisoformat(data["logged_at"])
        return cls(**data)


def note_from_content(content: str) -> str:
    """The rep's note inside retained call content (the header lines never hold a newline)."""
    _, marker, note = content.partition(_NOTE_MARKER)
    return note if marker else content


@dataclass(frozen=True)
class TimelineEntry:
    """One logged interaction as the timeline shows it."""

    call_id: str
    prospect: str
    call_date: date
    outcome: str
    rep_id: str
    note: str
    has_transcript: bool
    logged_at: str
    pending: bool = False

    @property
    def outcome_label(self) -> str:
        return OUTCOMES.get(self.outcome, self.outcome)

    @classmethod
    def from_call(cls, call: CallLog, pending: bool) -> TimelineEntry:
        return cls(
            call_id=call.call_id,
            prospect=call.prospect,
            call_date=call.call_date,
            outcome=call.outcome,
            rep_id=call.rep_id,
            note=call.note,
            has_transcript=bool(call.transcript),
            logged_at=call.logged_at.isoformat(),
            pending=pending,
        )


def newest_first(entries: list[TimelineEntry]) -> list[TimelineEntry]:
    return sorted(entries, key=lambda e: (e.call_date, e.logged_at), reverse=True)


@dataclass(frozen=True)
class RecalledMemory:
    """A memory recalled for a prospect, with the date of the call it came from."""

    text: str
    document_id: str | None
    call_date: date | None
    metadata: dict[str, str]


@dataclass(frozen=True)
class ProspectSummary:
    slug: str
    name: str
    company: str
    last_contact: date
    interactions: int
    last_outcome: str
