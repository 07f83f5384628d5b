"""Short messages to the rep: confirmations, usage help and plain-words failures."""

from __future__ import annotations

from typing import Any

from bot.blocks import ids
from bot.blocks.limits import button, escape_mrkdwn, mrkdwn
from bot.calls import LogResult

TIMELINE_USAGE = (
    "Usage: `/timeline <prospect name>`, e.g. `/timeline James Okafor`. "
    "It shows every call logged with that prospect, newest first."
)
BRIEF_USAGE = (
    "Usage: `/brief <prospect name>`, e.g. `/brief James Okafor`. Part of a name is enough "
    "when only one prospect matches."
)
MEMORY_DOWN = (
    "I can't reach the memory service right now, so I can't show that. "
    "Nothing you logged is lost — please try again in a minute."
)
SOMETHING_BROKE = (
    "Something went wrong on my side and I couldn't show that. It has been logged; "
    "please try again in a minute."
)


def build_log_confirmation(result: LogResult) -> tuple[str, list[dict[str, Any]]]:
    """The DM after a call is logged: names the prospect and outcome, and says where it is."""
    call = result.call
    who = escape_mrkdwn(call.prospect)
    outcome = escape_mrkdwn(call.outcome_label)
    if result.stored:
        text = f"Logged your call with {who} ({outcome}, {call.call_date})."
        body = f"✅ Logged your call with *{who}* on {call.call_date:%d %b %Y}: *{outcome}*."
    else:
        text = (
            f"Your call with {who} is saved here but not yet in memory; "
            "it will be stored as soon as memory is reachable."
        )
        body = (
            f"⏳ I couldn't reach the memory service, so your call with *{who}* "
            f"({outcome}, {call.call_date:%d %b %Y}) is kept here, note and all. "
            "It will be stored as soon as memory is back; nothing you typed is lost."
        )
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": mrkdwn(body)},
        {
            "type": "actions",
            "elements": [button("Timeline", f"{ids.OPEN_TIMELINE_ACTION}_0", call.prospect)],
        },
    ]
    return text, blocks
