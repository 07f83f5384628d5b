from datetime import date, timedelta

import pytest

from bot.brief.answer import (
    Claim,
    Commitment,
    DecisionMaker,
    Objection,
    brief_from_answer,
    check_brief_answer,
    label_for_score,
)
from bot.brief.prepare import BriefResult
from bot.domain.deal_facts import BriefFacts
from bot.domain.prospect_lookup import ProspectMatch
from tests.unit.brief.samples import TODAY, answer, commitment, entry, objection

MATCH = ProspectMatch("james", "james-okafor", "James Okafor", True, [])
NOTE_DATES = {date(2026, 11, 3), date(2026, 10, 1)}


def facts(count: int, days_since: int) -> BriefFacts:
    last = TODAY - timedelta(days=days_since)
    return BriefFacts(TODAY, count, last - timedelta(days=90), last, days_since, "Positive")


def test_facts_count_first_last_contact_and_outcome_of_the_latest_logged_call() -> None:
    entries = [
        entry(3, outcome="objection", call_id="a", logged_at="09:00"),
        entry(3, outcome="pilot_agreed", call_id="b", logged_at="15:00"),
        entry(50, outcome="positive"),
    ]
    assert BriefFacts.from_timeline(entries, TODAY) == BriefFacts(
        TODAY, 3, date(2026, 9, 21), date(2026, 11, 7), 3, "Pilot / trial agreed"
    )


def test_facts_of_an_empty_timeline_are_zero_and_none() -> None:
    empty = BriefFacts.from_timeline([], TODAY)
    assert empty == BriefFacts(TODAY, 0, None, None, None, None)
    assert empty.data_confidence == "low"


@pytest.mark.parametrize(
    ("count", "days_since", "expected"),
    [
        (1, 2, "low"),
        (9, 61, "low"),
        (4, 30, "high"),
        (9, 0, "high"),
        (3, 5, "medium"),
        (4, 31, "medium"),
        (2, 60, "medium"),
    ],
)
def test_data_confidence_low_for_one_or_stale_notes_high_for_four_recent(
    count: int, days_since: int, expected: str
) -> None:
    assert facts(count, days_since).data_confidence == expected


@pytest.mark.parametrize(
    ("model", "count", "expected"),
    [
        ("high", 1, "low"),
        ("low", 5, "low"),
        ("high", 3, "medium"),
        ("medium", 5, "medium"),
        ("high", 5, "high"),
    ],
)
def test_result_confidence_is_the_lower_of_model_and_data(
    model: str, count: int, expected: str
) -> None:
    brief = brief_from_answer(answer(confidence=model), NOTE_DATES)
    assert BriefResult(MATCH, facts(count, 2), [], brief=brief).confidence == expected
    assert BriefResult(MATCH, facts(count, 2), []).confidence == facts(count, 2).data_confidence


@pytest.mark.parametrize(
    ("score", "label"),
    [
        (0, "Cold"),
        (20, "Cold"),
        (21, "Warming up"),
        (40, "Warming up"),
        (41, "Engaged"),
        (61, "Hot"),
        (80, "Hot"),
        (81, "Closing"),
        (100, "Closing"),
    ],
)
def test_label_for_score_follows_the_bands(score: int, label: str) -> None:
    assert label_for_score(score) == label


def test_claims_whose_date_matches_no_note_are_dropped() -> None:
    risks = [
        {"text": "kept", "source_date": "2026-10-01"},
        {"text": "invented date", "source_date": "2026-10-02"},
        {"text": "no date", "source_date": "last week"},
    ]
    brief = brief_from_answer(answer(risks=risks), NOTE_DATES)
    assert brief.risks == [Claim("kept", date(2026, 10, 1))]
    assert brief.decision_makers == [
        DecisionMaker("Ada", "decision_maker", "CFO, signs off", date(2026, 11, 3))
    ]


def test_an_objection_is_kept_from_the_note_that_raised_it_and_resolved_only_by_a_later_one() -> (
    None
):
    objections = [
        objection("pricing", "resolved later", "2026-10-01", resolved="2026-11-03"),
        objection("legal", "resolution cites no note", "2026-10-01", resolved="2026-11-04"),
        objection("timing", "resolution before it was raised", "2026-11-03", "2026-10-01"),
        objection("need", "raised on no note's date", "2026-10-02"),
        objection("security_compliance", "still open", "2026-11-03"),
    ]
    brief = brief_from_answer(answer(objections=objections), NOTE_DATES)
    oct1, nov3 = date(2026, 10, 1), date(2026, 11, 3)
    assert brief.objections == [
        Objection("pricing", "resolved later", oct1, nov3),
        Objection("legal", "resolution cites no note", oct1),
        Objection("timing", "resolution before it was raised", nov3),
        Objection("security_compliance", "still open", nov3),
    ]
    assert [o.is_open for o in brief.objections] == [False, True, True, True]


def test_commitments_keep_their_due_date_and_count_as_kept_only_on_a_later_note() -> None:
    commitments = [
        commitment("us", "migration plan", "2026-10-01", due="2026-10-15"),
        commitment("prospect", "security questionnaire", "2026-10-01", done="2026-11-03"),
        commitment("us", "kept on no note", "2026-10-01", done="2026-10-20"),
        commitment("us", "made on no note", "2026-10-20"),
    ]
    brief = brief_from_answer(answer(commitments=commitments), NOTE_DATES)
    oct1 = date(2026, 10, 1)
    assert brief.commitments == [
        Commitment("us", "migration plan", oct1, due=date(2026, 10, 15)),
        Commitment("prospect", "security questionnaire", oct1, done=date(2026, 11, 3)),
        Commitment("us", "kept on no note", oct1),
    ]
    late = brief.commitments[0]
    assert late.overdue(date(2026, 10, 16)) and not late.overdue(date(2026, 10, 15))
    assert not brief.commitments[1].overdue(date(2027, 1, 1))


def test_at_risk_label_is_kept_whatever_the_score() -> None:
    brief = brief_from_answer(answer(score=90, label="At risk"), NOTE_DATES)
    assert (brief.score, brief.label) == (90, "At risk")


def test_a_label_that_disagrees_with_the_score_is_replaced_by_the_band() -> None:
    assert brief_from_answer(answer(score=30, label="Closing"), NOTE_DATES).label == "Warming up"


def test_recommended_action_with_unmatched_date_is_kept_without_a_date() -> None:
    action = {"text": "Call Ada.", "source_date": "2025-01-01"}
    brief = brief_from_answer(answer(recommended_action=action), NOTE_DATES)
    assert brief.recommended_action == Claim("Call Ada.", None)


@pytest.mark.parametrize("score", [140, -1])
def test_check_rejects_a_score_outside_0_to_100(score: int) -> None:
    assert check_brief_answer(answer(score=score)) == [f"score: {score} is not between 0 and 100"]
    assert check_brief_answer(answer(score=100)) == []
    assert check_brief_answer(answer(score=0)) == []
