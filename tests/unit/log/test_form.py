from dataclasses import replace
from datetime import date

import pytest

from bot.log.form import LogForm, LogFormInput, validate_log_form

TODAY = date(2026, 11, 2)
# prospect, company, outcome, call_date, note, transcript
VALID = LogFormInput("  Priya \n Sharma ", "", "objection", "2026-11-01", " CFO decides.\n", " ")


def test_valid_input_gives_a_cleaned_log_form() -> None:
    form, errors = validate_log_form(VALID, TODAY)
    assert errors == {}
    assert form == LogForm(
        "Priya Sharma", None, "objection", date(2026, 11, 1), "CFO decides.", None
    )


@pytest.mark.parametrize(
    "raw",
    [replace(VALID, note="x" * 3000), replace(VALID, call_date=TODAY.isoformat())],
    ids=["note-3000", "call-today"],
)
def test_note_of_3000_characters_and_a_call_today_are_accepted(raw: LogFormInput) -> None:
    form, errors = validate_log_form(raw, TODAY)
    assert errors == {}
    assert form is not None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"note": " \n "}, "note", id="blank-note"),
        pytest.param({"note": "x" * 3001}, "note", id="note-over-3000"),
        pytest.param({"call_date": "2026-11-03"}, "call_date", id="future-date"),
        pytest.param({"call_date": "yesterday"}, "call_date", id="unparseable-date"),
        pytest.param({"call_date": ""}, "call_date", id="missing-date"),
        pytest.param({"prospect": "  "}, "prospect", id="missing-prospect"),
        pytest.param({"outcome": "great"}, "outcome", id="unknown-outcome"),
        pytest.param({"outcome": ""}, "outcome", id="missing-outcome"),
    ],
)
def test_each_bad_value_is_an_error_on_exactly_its_field(
    changes: dict[str, str], field: str
) -> None:
    form, errors = validate_log_form(replace(VALID, **changes), TODAY)
    assert form is None
    assert list(errors) == [field]
    assert errors[field]


def test_prospect_written_in_a_non_latin_script_is_accepted() -> None:
    form, errors = validate_log_form(replace(VALID, prospect="Дмитрий Иванов"), TODAY)
    assert errors == {}
    assert form is not None
    assert form.prospect == "Дмитрий Иванов"
