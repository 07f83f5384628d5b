"""What memory stores about a call, and how it is written into and read back from Hindsight."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any, Protocol, TypeVar

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
    # Not a call: the rep sent the follow-up email a draft gave them ("Log as sent").
    "follow_up_sent": "Follow-up email sent",
}

FOLLOW_UP_SENT = "follow_up_sent"  # an entry that is an email sent, not a call
CLOSED = ("closed_won", "closed_lost")

CALL_LOG_TYPE = "call_log"
TRANSCRIPT_TYPE = "transcript"
_NOTE_MARKER = "\nNote:\n"
NOTE_ONLY = "note"


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
    source: str | None = None  # the permalink of the Slack message it was logged from

    @property
    def slug(self) -> str:
        return prospect_slug(self.prospect)

    @property
    def outcome_label(self) -> str:
        return OUTCOMES.get(self.outcome, self.outcome)

    def content(self) -> str:
        """What is retained: the rep's note alone. Who, when and how it went travel in
        `context()` and `metadata()`: header lines in the content become junk facts."""
        return self.note

    def context(self) -> str:
        """What the memory server (and its model) is told about the note, beside it."""
        who = f"{self.prospect} ({self.company})" if self.company else self.prospect
        return (
            f"Sales call with {who} on {self.call_date:%d %B %Y} ({self.call_date.isoformat()}); "
            f"outcome: {self.outcome_label}; note typed by sales rep {self.rep_id}."
        )

    def transcript_content(self) -> str:
        return self.transcript or ""

    def transcript_context(self) -> str:
        return f"Transcript of the sales call with {self.prospect} on {self.call_date.isoformat()}."

    def entities(self) -> list[dict[str, str]]:
        """The prospect and their company, given to memory rather than left to be guessed."""
        found = [{"text": self.prospect, "type": "PERSON"}]
        if self.company:
            found.append({"text": self.company, "type": "ORGANIZATION"})
        return found

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
            # Documents retained before this held a header and a "Note:" marker.
            "content": NOTE_ONLY,
            **({"source": self.source} if self.source else {}),
        }

    def tags(self, kind: str = CALL_LOG_TYPE) -> list[str]:
        return [prospect_tag(self.slug), rep_tag(self.rep_id), type_tag(kind)]

    def to_json(self) -> str:
        data = asdict(self)
        data["call_date"] = self.call_date.isoformat()
        data["logged_at"] = self.logged_at.isoformat()
        if data["source"] is None:  # as versions without the field wrote it (rollbacks)
            del data["source"]
        return json.dumps(data)

    @classmethod
    def from_json(cls, raw: str) -> CallLog:
        data = json.loads(raw)
        data["call_date"] = date.fromisoformat(data["call_date"])
        data["logged_at"] = datetime.fromisoformat(data["logged_at"])
        # A field a newer version added is left aside, never a reason to lose the call.
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


def note_from_document(text: str, metadata: dict[str, Any]) -> str:
    """The rep's note in a retained document: all of it, or, in a document from before notes
    were retained alone, what follows the header (whose lines never hold a newline)."""
    if metadata.get("content") == NOTE_ONLY:
        return text
    _, marker, note = text.partition(_NOTE_MARKER)
    return note if marker else text


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


@dataclass(frozen=True)
class ListedCall:
    """A logged call as memory's document listing describes it, before its note is read:
    when, who, how it went and how long its stored text is. Enough to order a history and cut
    it into pages; only the calls a page shows need their text fetched."""

    call_id: str
    prospect: str
    call_date: date
    outcome: str
    rep_id: str
    has_transcript: bool
    logged_at: str
    length: int  # characters of the stored text
    # The document's metadata as listed: it says how the stored text holds the note.
    metadata: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def with_note(self, text: str) -> TimelineEntry:
        """The call as the timeline shows it, given its document's stored text."""
        return TimelineEntry(
            call_id=self.call_id,
            prospect=self.prospect,
            call_date=self.call_date,
            outcome=self.outcome,
            rep_id=self.rep_id,
            note=note_from_document(text, self.metadata),
            has_transcript=self.has_transcript,
            logged_at=self.logged_at,
        )


class _Dated(Protocol):
    @property
    def call_date(self) -> date: ...

    @property
    def logged_at(self) -> str: ...


DatedT = TypeVar("DatedT", bound=_Dated)


def newest_first(entries: Iterable[DatedT]) -> list[DatedT]:
    """Latest call date first; calls of one day by when they were logged, latest first."""
    return sorted(entries, key=lambda e: (e.call_date, e.logged_at), reverse=True)


@dataclass(frozen=True)
class RecalledMemory:
    """A memory recalled for a prospect, with the date of the call it came from."""

    text: str
    document_id: str | None
    call_date: date | None
    metadata: dict[str, str]
    tags: tuple[str, ...] = ()
    kind: str = ""  # world, experience, observation (chunks mode: world)
    # An observation's evidence: the notes (call ids) its source facts came from, with their
    # dates. Empty for a fact or a note, which carry their own `document_id` and `call_date`.
    sources: tuple[tuple[str, date], ...] = ()


@dataclass(frozen=True)
class ProspectSummary:
    slug: str
    name: str
    company: str
    last_contact: date
    interactions: int
    last_outcome: str


@dataclass(frozen=True)
class LlmUsage:
    """What one task cost: the model that answered (or last failed), whether it escalated from
    the fast model and why, and the latency and tokens of all its requests together."""

    workspace_id: str
    task: str
    model: str
    ok: bool
    escalated: bool
    reason: str | None  # why it escalated, or why it failed
    requests: int
    latency_ms: int
    prompt_tokens: int
    completion_tokens: int
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
