import json
from typing import Any

from bot.brief.prepare import BRIEF_TASK, check_brief_answer
from bot.infra.llm import parse_answer
from prompts import load_schema
from tests.unit.brief.samples import answer

SCHEMA = load_schema(BRIEF_TASK.schema)


def test_a_valid_answer_is_accepted() -> None:
    assert parse_answer(json.dumps(answer()), SCHEMA) == (answer(), [])


def test_think_block_and_json_fences_are_stripped() -> None:
    content = (
        '<think>Maybe {"score": 1}? Let me see.</think>\n'
        f"```json\n{json.dumps(answer(), indent=2)}\n```"
    )
    assert parse_answer(content, SCHEMA) == (answer(), [])


def test_prose_is_reported_as_not_json_and_nothing_as_empty() -> None:
    parsed, problems = parse_answer("Here is the brief: the deal looks good.", SCHEMA)
    assert parsed is None
    assert len(problems) == 1 and problems[0].startswith("not JSON")
    for content in [None, "", "<think>the budget…</think>"]:
        assert parse_answer(content, SCHEMA) == (None, ["empty answer"])


def test_a_missing_field_is_a_schema_problem() -> None:
    broken = answer()
    del broken["summary"]
    assert parse_answer(json.dumps(broken), SCHEMA) == (
        None,
        ["answer: 'summary' is a required property"],
    )


def test_a_wrong_enum_or_type_is_a_schema_problem_at_its_path() -> None:
    parsed, problems = parse_answer(json.dumps(answer(label="Lukewarm")), SCHEMA)
    assert parsed is None
    assert len(problems) == 1 and problems[0].startswith("label: 'Lukewarm' is not one of")
    objection = [{**answer()["objections"][0], "raised_date": 3}]
    _, problems = parse_answer(json.dumps(answer(objections=objection)), SCHEMA)
    assert problems == ["objections/0/raised_date: 3 is not of type 'string'"]


def test_the_extra_check_runs_only_when_the_schema_passes() -> None:
    seen: list[dict[str, Any]] = []

    def check(parsed: dict[str, Any]) -> list[str]:
        seen.append(parsed)
        return ["score: rejected"]

    assert parse_answer(json.dumps(answer(momentum="sideways")), SCHEMA, check)[0] is None
    assert seen == []
    assert parse_answer(json.dumps(answer()), SCHEMA, check) == (None, ["score: rejected"])
    assert seen == [answer()]


def test_the_brief_check_rejects_a_score_the_schema_allows() -> None:
    assert parse_answer(json.dumps(answer(score=140)), SCHEMA, check_brief_answer) == (
        None,
        ["score: 140 is not between 0 and 100"],
    )
