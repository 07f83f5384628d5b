"""What logging a call shows: the modal, its prospect typeahead, reading a submission back, and
the confirmation DM."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.blocks import ids
from bot.blocks.draft_button import draft_button
from bot.blocks.limits import (
    INPUT_MAX,
    OPTION_TEXT,
    OPTION_VALUE,
    button,
    escape_mrkdwn,
    mrkdwn,
    plain,
    truncate,
)
from bot.log.form import LogFormInput
from memory.prospects import MAX_PROSPECT_NAME, clean_prospect_name, prospect_slug
from memory.records import OUTCOMES, CallLog

# What a confirmation says: the call is in memory; saved but waiting; waiting, now in memory.
STORED, WAITING, NOW_STORED = "stored", "waiting", "now_stored"

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


def _text_input(action_id: str, initial: str) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": action_id,
        "multiline": True,
        "max_length": INPUT_MAX,
    }
    if initial:
        element["initial_value"] = initial[:INPUT_MAX]
    return element


def _prospect_block(prospect: str | None) -> dict[str, Any]:
    select: dict[str, Any] = {
        "type": "external_select",
        "action_id": ids.PROSPECT_ACTION,
        "placeholder": plain("Type a name"),
        "min_query_length": 1,
    }
    if prospect:
        select["initial_option"] = _option(prospect, prospect)
    return {
        "type": "input",
        "block_id": ids.PROSPECT_BLOCK,
        "label": plain("Prospect"),
        "hint": plain("Pick a known prospect or type a new name."),
        "element": select,
    }


def _company_block() -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": ids.COMPANY_BLOCK,
        "optional": True,
        "label": plain("Company"),
        "element": {"type": "plain_text_input", "action_id": ids.COMPANY_ACTION, "max_length": 80},
    }


def _outcome_block(outcome: str) -> dict[str, Any]:
    chosen = {"initial_option": _option(OUTCOMES[outcome], outcome)} if outcome in OUTCOMES else {}
    return {
        "type": "input",
        "block_id": ids.OUTCOME_BLOCK,
        "label": plain("Outcome"),
        "element": {
            "type": "static_select",
            "action_id": ids.OUTCOME_ACTION,
            "placeholder": plain("How did it go?"),
            "options": [_option(label, key) for key, label in OUTCOMES.items()],
            **chosen,
        },
    }


def _date_block(today: date) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": ids.DATE_BLOCK,
        "label": plain("Call date"),
        "element": {
            "type": "datepicker",
            "action_id": ids.DATE_ACTION,
            "initial_date": today.isoformat(),
        },
    }


def _note_block(note: str, team_memory: bool) -> dict[str, Any]:
    who_reads = (
        "Team memory: every rep in this workspace can see it."
        if team_memory
        else "Only you read it: teammates see only that you logged a call."
    )
    return {
        "type": "input",
        "block_id": ids.NOTE_BLOCK,
        "label": plain("What happened?"),
        "hint": plain(
            "2–5 sentences in your own words: concerns, budget, who decides, next step. "
            + who_reads
        ),
        "element": _text_input(ids.NOTE_ACTION, note),
    }


def _transcript_block(transcript: str) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": ids.TRANSCRIPT_BLOCK,
        "optional": True,
        "label": plain("Transcript or extra notes"),
        "element": _text_input(ids.TRANSCRIPT_ACTION, transcript),
    }


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
    notices = [{"type": "context", "elements": [mrkdwn(notice)]}] if notice else []
    return {
        "type": "modal",
        "callback_id": ids.LOG_MODAL_CALLBACK,
        "title": plain("Log a call"),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "private_metadata": private_metadata,
        "blocks": [
            _prospect_block(prospect),
            _company_block(),
            _outcome_block(outcome),
            _date_block(today),
            _note_block(note, team_memory),
            _transcript_block(transcript),
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


def build_log_confirmation(call: CallLog, kind: str) -> tuple[str, list[dict[str, Any]]]:
    """The DM about a logged call: in memory, saved and on its way, or now in memory."""
    who = escape_mrkdwn(call.prospect)
    outcome = escape_mrkdwn(call.outcome_label)
    if kind == WAITING:
        text = (
            f"Your call with {who} ({outcome}, {call.call_date}) is saved; memory is busy or "
            "unreachable, so it will be stored shortly. I'll tell you when it is."
        )
        body = (
            f"⏳ Your call with *{who}* ({outcome}, {call.call_date:%d %b %Y}) is saved here, "
            "note and all. Memory is busy or unreachable right now, so it will be stored as soon "
            "as it answers: nothing you typed is lost, and I'll tell you when it is in."
        )
    elif kind == NOW_STORED:
        text = f"Your call with {who} ({outcome}, {call.call_date}) is now in memory."
        body = (
            f"✅ Your call with *{who}* on {call.call_date:%d %b %Y} (*{outcome}*) has reached "
            "memory: briefs and digests now use it."
        )
    else:
        text = f"Logged your call with {who} ({outcome}, {call.call_date})."
        body = f"✅ Logged your call with *{who}* on {call.call_date:%d %b %Y}: *{outcome}*."
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": mrkdwn(body)},
        {
            "type": "actions",
            "elements": [
                draft_button(call.prospect, "logged"),
                button("Timeline", f"{ids.OPEN_TIMELINE_ACTION}_0", call.prospect),
            ],
        },
    ]
    return text, blocks
