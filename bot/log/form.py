"""Checking what a rep typed into the log modal; every problem names its field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from memory.prospects import MAX_PROSPECT_NAME, NAME_TOO_LONG, clean_prospect_name, prospect_slug
from memory.records import OUTCOMES

MAX_NOTE = 3000
MAX_TRANSCRIPT = 3000
MAX_COMPANY = 80


@dataclass(frozen=True)
class LogFormInput:
    """Raw strings from the modal, before any checking."""

    prospect: str
    company: str
    outcome: str
    call_date: str
    note: str
    transcript: str


@dataclass(frozen=True)
class LogForm:
    """A valid submission."""

    prospect: str
    company: str | None
    outcome: str
    call_date: date
    note: str
    transcript: str | None


def validate_log_form(raw: LogFormInput, today: date) -> tuple[LogForm | None, dict[str, str]]:
    """A `LogForm`, or the errors by field name; `today` is the rep's own local date."""
    errors: dict[str, str] = {}

    prospect = clean_prospect_name(raw.prospect)
    if not prospect_slug(prospect):
        errors["prospect"] = "Pick a prospect, or type a new name and choose “New prospect”."
    elif len(prospect) > MAX_PROSPECT_NAME:
        errors["prospect"] = NAME_TOO_LONG

    company = clean_prospect_name(raw.company)
    if len(company) > MAX_COMPANY:
        errors["company"] = f"Keep the company under {MAX_COMPANY} characters."

    if raw.outcome not in OUTCOMES:
        errors["outcome"] = "Pick how the call went."

    call_date: date | None = None
    try:
        call_date = date.fromisoformat(raw.call_date)
    except ValueError:
        errors["call_date"] = "Pick the date of the call."
    if call_date is not None and call_date > today:
        errors["call_date"] = f"The call date can't be in the future (today is {today:%d %b %Y})."

    note = raw.note.strip()
    if not note:
        errors["note"] = "Write what happened on the call: 2–5 sentences are enough."
    elif len(note) > MAX_NOTE:
        errors["note"] = (
            f"The note is {len(note):,} characters; keep it under {MAX_NOTE:,} "
            "(put the rest in Transcript)."
        )

    transcript = raw.transcript.strip()
    if len(transcript) > MAX_TRANSCRIPT:
        errors["transcript"] = f"Keep the transcript under {MAX_TRANSCRIPT:,} characters."

    if errors or call_date is None:
        return None, errors
    return (
        LogForm(
            prospect=prospect,
            company=company or None,
            outcome=raw.outcome,
            call_date=call_date,
            note=note,
            transcript=transcript or None,
        ),
        {},
    )
