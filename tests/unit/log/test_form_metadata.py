"""What an open log form carries back: only a follow-up entry id of the expected shape makes
the call's id; anything else falls back to one call per form."""

from __future__ import annotations

import json

from handlers.log import _form_metadata


def metadata(**values: object) -> dict[str, str]:
    return {"private_metadata": json.dumps(values)}


def test_only_a_well_formed_follow_up_entry_id_is_kept() -> None:
    entry = "followup-" + "a" * 32
    assert _form_metadata(metadata(tz="Europe/Paris", entry=entry)) == ("Europe/Paris", None, entry)
    for odd in ("followup-../../x", "call-V123", "followup-" + "A" * 32, 42, ""):
        assert _form_metadata(metadata(entry=odd))[2] is None
    assert _form_metadata({"private_metadata": "not json"}) == (None, None, None)
    assert _form_metadata(metadata(source="javascript:alert(1)"))[1] is None
