from dataclasses import replace

import pytest

from memory.records import CallLog, note_from_document
from tests.unit.factories import CALL


@pytest.mark.parametrize(
    "note",
    ["Plain note.", "Line one\nNote:\nnot a header", "\nNote:\n", "  spaced \n"],
)
def test_note_is_read_back_exactly_from_its_document(note: str) -> None:
    call = replace(CALL, note=note)
    assert note_from_document(call.content(), call.metadata()) == note


def test_a_document_from_before_notes_were_retained_alone_still_reads_back() -> None:
    old = "Sales call with James Okafor on 01 October 2026.\nOutcome: Positive.\nNote:\nHi."
    assert note_from_document(old, {"prospect": "James Okafor"}) == "Hi."


def test_the_note_is_retained_alone_and_who_when_and_outcome_travel_beside_it() -> None:
    assert CALL.content() == CALL.note
    context = CALL.context()
    assert "James Okafor (Acme)" in context and "2026-10-01" in context
    assert "Pilot / trial agreed" in context and "U1" in context
    assert CALL.entities() == [
        {"text": "James Okafor", "type": "PERSON"},
        {"text": "Acme", "type": "ORGANIZATION"},
    ]


def test_json_round_trip_keeps_every_field() -> None:
    for call in (CALL, replace(CALL, company=None, transcript=None)):
        assert CallLog.from_json(call.to_json()) == call


def test_metadata_values_are_all_strings() -> None:
    for call in (CALL, replace(CALL, company=None, transcript=None)):
        metadata = call.metadata()
        assert all(isinstance(v, str) for v in metadata.values())
        assert metadata["prospect_slug"] == "james-okafor"


def test_a_kept_call_reads_back_across_versions() -> None:
    import json as _json

    from tests.unit.factories import CALL

    plain = CALL.to_json()
    assert "source" not in _json.loads(plain)  # as versions without the field wrote it
    newer = {**_json.loads(plain), "source": "https://x.slack.com/archives/C1/p1", "later": 1}
    read = type(CALL).from_json(_json.dumps(newer))
    assert read.source == "https://x.slack.com/archives/C1/p1" and read.note == CALL.note
