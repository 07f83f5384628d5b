from datetime import date
from typing import Any

from bot.blocks import ids
from bot.blocks.limits import MODAL_TITLE, OPTION_TEXT, OPTION_VALUE
from bot.log.form import LogFormInput
from bot.log.view import (
    build_log_modal,
    build_prospect_options,
    modal_errors,
    read_log_modal,
)

BLOCKS = ["PROSPECT", "COMPANY", "OUTCOME", "DATE", "NOTE", "TRANSCRIPT"]


def elements(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b["element"] for b in view["blocks"]}


def test_modal_has_callback_every_input_block_date_title_and_metadata() -> None:
    view = build_log_modal(date(2026, 11, 2), None, '{"channel": "C1"}')
    assert view["callback_id"] == ids.LOG_MODAL_CALLBACK
    assert [b["block_id"] for b in view["blocks"]] == [getattr(ids, f"{n}_BLOCK") for n in BLOCKS]
    assert len(view["title"]["text"]) <= MODAL_TITLE
    assert view["private_metadata"] == '{"channel": "C1"}'
    assert elements(view)[ids.DATE_BLOCK]["initial_date"] == "2026-11-02"
    assert "initial_option" not in elements(view)[ids.PROSPECT_BLOCK]


def test_modal_preselects_the_given_prospect() -> None:
    view = build_log_modal(date(2026, 11, 2), "James Okafor", "")
    assert elements(view)[ids.PROSPECT_BLOCK]["initial_option"]["value"] == "James Okafor"


def test_options_list_known_names_first_then_the_cleaned_new_name() -> None:
    options = build_prospect_options("  Ana \n Lopez ", ["James Okafor", "Priya Sharma"])
    assert [o["value"] for o in options] == ["James Okafor", "Priya Sharma", "Ana Lopez"]
    assert options[-1]["text"]["text"] == "New prospect: Ana Lopez"


def test_no_new_option_when_the_typed_name_is_known_by_slug_or_too_long() -> None:
    known = ["Príya Sharma"]
    assert [o["value"] for o in build_prospect_options("priya  SHARMA", known)] == known
    assert [o["value"] for o in build_prospect_options("x" * 61, known)] == known
    assert build_prospect_options("   ", []) == []


def test_options_stay_within_slack_text_and_value_limits() -> None:
    options = build_prospect_options("y" * 60, ["z" * 200])
    assert [o["value"] for o in options][-1] == "y" * 60
    assert all(len(o["text"]["text"]) <= OPTION_TEXT for o in options)
    assert all(len(o["value"]) <= OPTION_VALUE for o in options)


def test_read_log_modal_reads_slack_state_values() -> None:
    def pick(value: str | None) -> dict[str, Any]:
        option = {"text": {"type": "plain_text", "text": value}, "value": value}
        return {"type": "static_select", "selected_option": option if value else None}

    def text(value: str | None) -> dict[str, Any]:
        return {"type": "plain_text_input", "value": value}

    values = {
        ids.PROSPECT_BLOCK: {ids.PROSPECT_ACTION: pick("James Okafor")},
        ids.COMPANY_BLOCK: {ids.COMPANY_ACTION: text(None)},
        ids.OUTCOME_BLOCK: {ids.OUTCOME_ACTION: pick("positive")},
        ids.DATE_BLOCK: {ids.DATE_ACTION: {"type": "datepicker", "selected_date": "2026-11-02"}},
        ids.NOTE_BLOCK: {ids.NOTE_ACTION: text("Keen on a pilot.")},
        ids.TRANSCRIPT_BLOCK: {ids.TRANSCRIPT_ACTION: text(None)},
    }
    expected = LogFormInput("James Okafor", "", "positive", "2026-11-02", "Keen on a pilot.", "")
    assert read_log_modal(values) == expected
    values[ids.PROSPECT_BLOCK][ids.PROSPECT_ACTION] = pick(None)
    assert read_log_modal(values).prospect == ""


def test_modal_errors_are_keyed_by_block_id() -> None:
    errors = {"call_date": "future", "note": "empty", "prospect": "pick"}
    expected = {ids.DATE_BLOCK: "future", ids.NOTE_BLOCK: "empty", ids.PROSPECT_BLOCK: "pick"}
    assert modal_errors(errors) == expected


def test_the_note_hint_says_who_will_see_it() -> None:
    def hint(team_memory: bool) -> str:
        view = build_log_modal(date(2026, 11, 20), None, "{}", team_memory=team_memory)
        return next(b for b in view["blocks"] if b.get("block_id") == "note")["hint"]["text"]

    assert "every rep in this workspace can see it" in hint(True)
    assert "Only you read it" in hint(False)
