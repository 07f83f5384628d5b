"""The post-call logging modal, its prospect typeahead, and reading a submission back."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.blocks import ids
from bot.blocks.limits import INPUT_MAX, OPTION_TEXT, OPTION_VALUE, mrkdwn, plain, truncate
from bot.log_form import LogFormInput
from memory.prospects import MAX_PROSPECT_NAME, clean_prospect_name, prospect_slug
from memory.records import OUTCOMES

# Field names of the validator -> the block that shows the error inside the modal.
FIELD_BLOCKS = {
    "prospect": ids.PROSPECT_BLOCK,
    "company": ids.COMPANY_BLOCK,
    "outcome": ids.OUTCOME_BLOCK,
    "call_date": ids.DATE_BLOCK,
    "note": ids.NOTE_BLOCK,
    "transcript": ids.TRANSCRIPT_BLOCK,
}
_MAX_OPTIONS = 100


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text, OPTION_TEXT), "value": value[:OPTION_VALUE]}


def build_log_modal(
    today: date,
    prospect: str | None,
    private_metadata: str,
    note: str = "",
    transcript: str = "",
    notice: str = "",
    team_memory: bool = True,
    outcome: str = "",
) -> dict[str, Any]:
    """The modal a rep fills after a call; `prospect` pre-selects a name (known or new);
    `note` and `transcript` pre-fill those fields, and `notice` says why above them;
    `outcome` pre-selects one."""
    note_input: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ids.NOTE_ACTION,
        "multiline": True,
        "max_length": INPUT_MAX,
    }
    transcript_input: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ids.TRANSCRIPT_ACTION,
        "multiline": True,
        "max_length": INPUT_MAX,
    }
    if note:
        note_input["initial_value"] = note[:INPUT_MAX]
    if transcript:
        transcript_input["initial_value"] = transcript[:INPUT_MAX]
    notices = [{"type": "context", "elements": [mrkdwn(notice)]}] if notice else []
    prospect_select: dict[str, Any] = {
        "type": "external_select",
        "action_id": ids.PROSPECT_ACTION,
        "placeholder": plain("Type a name"),
        "min_query_length": 1,
    }
    if prospect:
        prospect_select["initial_option"] = _option(prospect, prospect)
    return {
        "type": "modal",
        "callback_id": ids.LOG_MODAL_CALLBACK,
        "title": plain("Log a call"),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "private_metadata": private_metadata,
        "blocks": [
            {
                "type": "input",
                "block_id": ids.PROSPECT_BLOCK,
                "label": plain("Prospect"),
                "hint": plain("Pick a known prospect or type a new name."),
                "element": prospect_select,
            },
            {
                "type": "input",
                "block_id": ids.COMPANY_BLOCK,
                "optional": True,
                "label": plain("Company"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.COMPANY_ACTION,
                    "max_length": 80,
                },
            },
            {
                "type": "input",
                "block_id": ids.OUTCOME_BLOCK,
                "label": plain("Outcome"),
                "element": {
                    "type": "static_select",
                    "action_id": ids.OUTCOME_ACTION,
                    "placeholder": plain("How did it go?"),
                    "options": [_option(label, key) for key, label in OUTCOMES.items()],
                    **(
                        {"initial_option": _option(OUTCOMES[outcome], outcome)}
                        if outcome in OUTCOMES
                        else {}
                    ),
                },
            },
            {
                "type": "input",
                "block_id": ids.DATE_BLOCK,
                "label": plain("Call date"),
                "element": {
                    "type": "datepicker",
                    "action_id": ids.DATE_ACTION,
                    "initial_date": today.isoformat(),
                },
            },
            {
                "type": "input",
                "block_id": ids.NOTE_BLOCK,
                "label": plain("What happened?"),
                "hint": plain(
                    "2–5 sentences in your own words: concerns, budget, who decides, next step. "
                    + (
                        "Team memory: every rep in this workspace can see it."
                        if team_memory
                        else "Only you read it: teammates see only that you logged a call."
                    )
                ),
                "element": note_input,
            },
            {
                "type": "input",
                "block_id": ids.TRANSCRIPT_BLOCK,
                "optional": True,
                "label": plain("Transcript or extra notes"),
                "element": transcript_input,
            },
            *notices,
        ],
    }


def build_prospect_options(typed: str, known: list[str]) -> list[dict[str, Any]]:
    """Typeahead: known names matching what was typed, then the typed name as a new prospect."""
    name = clean_prospect_name(typed)
    options = [_option(known_name, known_name) for known_name in known[: _MAX_OPTIONS - 1]]
    is_known = any(prospect_slug(k) == prospect_slug(name) for k in known)
    if name and prospect_slug(name) and not is_known and len(name) <= MAX_PROSPECT_NAME:
        options.append(_option(truncate(f"New prospect: {name}", OPTION_TEXT), name))
    return options


def read_log_modal(state_values: dict[str, Any]) -> LogFormInput:
    """The raw values of a submitted log modal (Slack's `view.state.values`)."""

    def element(block: str, action: str) -> dict[str, Any]:
        value: dict[str, Any] = state_values.get(block, {}).get(action) or {}
        return value

    selected = element(ids.PROSPECT_BLOCK, ids.PROSPECT_ACTION).get("selected_option") or {}
    outcome = element(ids.OUTCOME_BLOCK, ids.OUTCOME_ACTION).get("selected_option") or {}
    return LogFormInput(
        prospect=selected.get("value") or "",
        company=element(ids.COMPANY_BLOCK, ids.COMPANY_ACTION).get("value") or "",
        outcome=outcome.get("value") or "",
        call_date=element(ids.DATE_BLOCK, ids.DATE_ACTION).get("selected_date") or "",
        note=element(ids.NOTE_BLOCK, ids.NOTE_ACTION).get("value") or "",
        transcript=element(ids.TRANSCRIPT_BLOCK, ids.TRANSCRIPT_ACTION).get("value") or "",
    )


def modal_errors(errors: dict[str, str]) -> dict[str, str]:
    """Validator errors keyed by the modal's block ids (Slack's `response_action: errors`)."""
    return {FIELD_BLOCKS[field]: message for field, message in errors.items()}
