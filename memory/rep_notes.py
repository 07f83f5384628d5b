"""A rep's call notes as memory's listing of memory units gives them, one call per note.

Listing by the rep's tag reads the whole pipeline in a few pages, with no query embedding and
no document read per call. What a unit holds depends on how memory filed the note: in chunks
mode the note's text itself (one unit per chunk of ~1,000 characters); with an LLM the facts
extracted from it, each carrying the labels memory gave it (`objection:pricing`). Either way
every unit carries its document's metadata (prospect, date, outcome, rep) and the call's id as
its `document_id`, so the units are put back together into calls here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from memory.records import TimelineEntry, newest_first, note_from_document

# Tags the bot puts on every note; any other tag on a unit is a label memory gave a fact.
_OWN_TAG_PREFIXES = ("prospect:", "rep:", "type:")


@dataclass(frozen=True)
class RepNote:
    """One of a rep's calls: the call (its note as memory holds it), the prospect's slug, and
    the labels memory gave what the note says (none in chunks mode)."""

    slug: str
    entry: TimelineEntry
    labels: tuple[str, ...] = ()


def _chunk_number(unit: Any) -> int:
    """Where a unit's chunk sits in its document (chunk ids end in `_<n>`)."""
    _, _, number = str(unit.chunk_id or "").rpartition("_")
    return int(number) if number.isdigit() else 0


def _parse_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def notes_from_units(units: Iterable[Any]) -> list[RepNote]:
    """Listed memory units put back together into calls, newest first.

    A call's text is its units in the order they came from the note: by chunk, then by when
    memory says each was mentioned (facts of one chunk are a few milliseconds apart, in the
    order of the note). Units without a call id or a date are not call notes and are skipped.
    """
    by_call: dict[str, list[Any]] = {}
    for unit in units:
        if unit.document_id and unit.fact_type != "observation":
            by_call.setdefault(unit.document_id, []).append(unit)
    notes = []
    for call_id, parts in by_call.items():
        parts.sort(key=lambda u: (_chunk_number(u), u.mentioned_at or "", u.id))
        meta: dict[str, Any] = dict(parts[0].metadata or {})
        tags = {tag for unit in parts for tag in unit.tags or ()}
        slug = str(meta.get("prospect_slug") or "") or next(
            (tag.removeprefix("prospect:") for tag in tags if tag.startswith("prospect:")), ""
        )
        call_date = _parse_date(meta.get("date"))
        if not slug or call_date is None:
            continue
        text = " ".join((unit.text or "").strip() for unit in parts).strip()
        entry = TimelineEntry(
            call_id=call_id,
            prospect=str(meta.get("prospect", slug)),
            call_date=call_date,
            outcome=str(meta.get("outcome", "")),
            rep_id=str(meta.get("rep", "")),
            note=note_from_document(text, meta),
            has_transcript=meta.get("has_transcript") == "yes",
            logged_at=str(meta.get("logged_at", "")),
        )
        labels = tuple(sorted(t for t in tags if not t.startswith(_OWN_TAG_PREFIXES)))
        notes.append(RepNote(slug, entry, labels))
    by_entry = {id(note.entry): note for note in notes}
    return [by_entry[id(entry)] for entry in newest_first(note.entry for note in notes)]
