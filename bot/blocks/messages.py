"""Messages several features share: plain-words failures, stale buttons, what teammates logged;
and the log's confirmation DM."""

from __future__ import annotations

from typing import Any

from bot.blocks import ids
from bot.blocks.draft_button import draft_button
from bot.blocks.limits import button, escape_mrkdwn, mrkdwn
from bot.calls import NOW_STORED, WAITING
from memory.records import CallLog

MEMORY_DOWN = (
    "I can't reach the memory service right now, so I can't show that. "
    "Nothing you logged is lost — please try again in a minute."
)
STALE_BUTTON = (
    "That button is out of date or was not made by me, so I couldn't act on it. "
    "Run the command again (e.g. `/timeline <prospect>`)."
)

NO_WORKSPACE = (
    "Slack did not say which workspace or person this came from, so I did nothing. "
    "Please try again; if it keeps happening, reinstall the app in your workspace."
)


def teammates_note(count: int) -> str:
    """NOTES_VISIBILITY=own: how many calls other reps logged on the prospect, never what."""
    calls = f"{count} call{'s' if count != 1 else ''}"
    return f"👥 {calls} by teammates, not shown: you see only the calls you logged."


def something_broke(ref: str) -> str:
    """An unexpected failure, in plain words, with the id the log line carries."""
    return (
        f"Something went wrong on my side and I couldn't finish that (reference {ref}). "
        "It has been logged; please try again in a minute."
    )


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
