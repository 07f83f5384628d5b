from dataclasses import replace

import pytest

from memory.records import CallLog, note_from_content
from tests.unit.factories import CALL


@pytest.mark.parametrize(
    "note",
    ["Plain note.", "Line one\nNote:\nnot a header", "\nNote:\n", "  spaced \n"],
)
def test_note_is_read_back_exactly_from_content(note: str) -> None:
    assert note_from_content(replace(CALL, note=note).content()) == note


def test_json_round_trip_keeps_every_field() -> None:
    for call in (CALL, replace(CALL, company=None, transcript=None)):
        assert CallLog.from_json(call.to_json()) == call


def test_metadata_values_are_all_strings() -> None:
    for call in (CALL, replace(CALL, company=None, transcript=None)):
        metadata = call.metadata()
        assert all(isinstance(v, str) for v in metadata.values())
        assert metadata["prospect_slug"] == "james-okafor"
