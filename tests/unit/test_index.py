from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from memory.index import LocalIndex
from tests.unit.factories import CALL

LATER, EARLIER = date(2026, 10, 9), date(2026, 9, 1)


@pytest.fixture
def index(tmp_path: Path) -> Iterator[LocalIndex]:
    opened = LocalIndex.open(f"sqlite:///{tmp_path}/i.db")
    yield opened
    opened.close()


def test_record_call_is_true_once_then_false_for_the_same_call_id(index: LocalIndex) -> None:
    assert index.record_call(CALL) is True
    assert index.record_call(CALL) is False
    assert index.known_prospects("T1")[0].interactions == 1


def test_known_prospects_count_calls_and_last_contact(index: LocalIndex) -> None:
    index.record_call(CALL)
    index.record_call(replace(CALL, call_id="v2", prospect="james OKAFOR", call_date=LATER))
    index.record_call(replace(CALL, call_id="v3", prospect="Priya Sharma", call_date=EARLIER))
    known = index.known_prospects("T1")
    assert [(p.name, p.interactions, p.last_contact) for p in known] == [
        ("James Okafor", 2, LATER),
        ("Priya Sharma", 1, EARLIER),
    ]


def test_workspaces_are_separate(index: LocalIndex) -> None:
    index.record_call(CALL)
    index.record_call(replace(CALL, call_id="w1", workspace_id="T2", prospect="Priya Sharma"))
    assert [p.name for p in index.known_prospects("T1")] == ["James Okafor"]
    assert [p.name for p in index.known_prospects("T2")] == ["Priya Sharma"]
    assert index.search_prospects("T2", "okafor") == []


def test_pending_calls_are_kept_filtered_and_removed_when_delivered(index: LocalIndex) -> None:
    other = replace(CALL, call_id="v2", prospect="Priya Sharma")
    index.keep_pending(CALL)
    index.keep_pending(CALL)
    index.keep_pending(other)
    assert index.pending() == [CALL, other]
    assert index.pending("T1", "priya-sharma") == [other]
    assert index.pending("T2") == []
    index.delivered("v1")
    assert index.pending() == [other]


def test_search_prospects_matches_a_slug_substring(index: LocalIndex) -> None:
    index.record_call(CALL)
    index.record_call(replace(CALL, call_id="v2", prospect="Priya Sharma"))
    assert index.search_prospects("T1", "OKAF") == ["James Okafor"]
    assert index.search_prospects("T1", "y") == ["Priya Sharma"]


def test_forget_prospect_removes_calls_pending_and_the_prospect(index: LocalIndex) -> None:
    kept = replace(CALL, call_id="v2", prospect="Priya Sharma")
    for call in (CALL, kept):
        index.record_call(call)
        index.keep_pending(call)
    index.forget_prospect("T1", "james-okafor")
    assert [p.slug for p in index.known_prospects("T1")] == ["priya-sharma"]
    assert index.pending("T1") == [kept]
    assert index.record_call(CALL) is True
