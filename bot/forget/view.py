"""Everything erasure shows: the offer after `/forget`, the confirmation, refusals and the
receipt. Every name is escaped here, once; the texts are mrkdwn-safe as they are."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.blocks import ids
from bot.blocks.limits import escape_mrkdwn, mrkdwn, plain

if TYPE_CHECKING:
    from bot.forget.erase import ForgetPlan
    from memory.index import Erasure

FORGET_USAGE = (
    "Usage: `/forget <prospect name>` erases what was logged about that prospect: the notes, "
    "transcripts and what memory drew from them. You see exactly what goes and confirm first."
)


def _calls(count: int) -> str:
    return f"{count} call{'s' if count != 1 else ''}"


def unknown_prospect(suggestions: list[str]) -> str:
    said = "I don't know a prospect called that here, so nothing was erased."
    if suggestions:
        said += f" Did you mean {', '.join(escape_mrkdwn(s) for s in suggestions)}?"
    return said


def not_yours(name: str) -> str:
    return (
        f"You have logged no call with {escape_mrkdwn(name)}, so there is nothing of yours to "
        "erase. Erasing every rep's calls on a prospect is for workspace admins and owners. "
        "Nothing was erased."
    )


def changed_meanwhile(name: str) -> str:
    return (
        f"What you may erase of {escape_mrkdwn(name)} changed since you opened this (a "
        "teammate logged a call, or an erasure ran). Nothing was erased: run `/forget` again "
        "to see what goes now."
    )


def forget_offer(plan: ForgetPlan) -> tuple[str, list[dict[str, Any]]]:
    """The answer to `/forget`: what it would take, and the button that opens the review."""
    who = escape_mrkdwn(plan.name)
    text = (
        f"Erase *{who}*? You will see exactly what goes before anything does."
        if plan.scope == "prospect"
        else f"Erase *your {_calls(plan.calls)}* with *{who}*? The calls teammates logged stay."
    )
    return f"Forget {plan.name}?", [
        {"type": "section", "text": mrkdwn(text)},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": plain("Review and forget…"),
                    "style": "danger",
                    "action_id": ids.FORGET_REVIEW_ACTION,
                    "value": plan.name,
                }
            ],
        },
    ]


def build_forget_modal(plan: ForgetPlan) -> dict[str, Any]:
    """The confirmation: exactly what goes, counted from the local index."""
    who = escape_mrkdwn(plan.name)
    waiting = f" ({plan.waiting} not yet in memory)" if plan.waiting else ""
    if plan.scope == "prospect":
        what = f"This erases *{who}* for everyone:\n• every call logged with them: " + (
            f"{_calls(plan.calls)}{waiting}, notes and transcripts\n"
        )
    else:
        what = (
            f"This erases *the {_calls(plan.calls)} you logged* with *{who}*{waiting}, notes "
            f"and transcripts. The {_calls(plan.teammates)} teammates logged stay: only a "
            "workspace admin or owner can erase the whole prospect.\n"
        )
    text = (
        what + "• every fact, observation and mental model memory drew from them\n"
        "• what SalesMemory keeps here about them (index rows, health, snoozes, drafts) and "
        "the confirmations I sent about those calls\n"
        "A call logged after you confirm is not touched.\n\n"
        "*It cannot be undone.* You get a receipt in your DM."
    )
    return {
        "type": "modal",
        "callback_id": ids.FORGET_MODAL_CALLBACK,
        "title": plain("Forget a prospect"),
        "submit": plain("Forget for good"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps({"name": plan.name, "scope": plan.scope}),
        "blocks": [{"type": "section", "text": mrkdwn(text)}],
    }


def notice_modal(text: str) -> dict[str, Any]:
    """The forget modal with only something to say (nothing to confirm); `text` is one of
    this module's mrkdwn-safe messages."""
    return {
        "type": "modal",
        "callback_id": ids.FORGET_MODAL_CALLBACK,
        "title": plain("Forget a prospect"),
        "close": plain("Close"),
        "blocks": [{"type": "section", "text": mrkdwn(text)}],
    }


def counting_modal() -> dict[str, Any]:
    return notice_modal("Counting what would go…")


def memory_later(name: str) -> str:
    """Said at once when memory's part did not finish in time: the rest happens later."""
    return (
        f"🗑️ *{escape_mrkdwn(name)}*: what SalesMemory keeps here is erased. Memory has not "
        "finished its part yet (it is not answering, or is still filing one of these notes), "
        "so the notes and what it drew from them go as soon as it can; nothing logged after "
        "your confirmation is touched. You get the receipt then."
    )


def memory_refused(request: Erasure) -> str:
    """Said once when memory refuses the deletion itself: it is not forgotten yet."""
    return (
        f"⚠️ *{escape_mrkdwn(request.receipt_name or 'The prospect')}*: what SalesMemory keeps "
        "here is erased, but the memory server refused to delete its part. I try again every "
        "10 minutes and send the receipt once it is done; please ask your Slack admin to look "
        "at the memory server's log."
    )


def receipt(request: Erasure, deleted_messages: int, done_at: datetime) -> str:
    """The rep's receipt: what went, when, and what could not be removed."""
    who = escape_mrkdwn(request.receipt_name or "The prospect")
    calls = f"{request.notes} call{'s' if request.notes != 1 else ''}"
    whose = "" if request.scope == "prospect" else "your calls with "
    late = (
        " Memory was unreachable when you asked, so it finished once memory was back."
        if (done_at - request.requested_at).total_seconds() > 60
        else ""
    )
    waiting = (
        f" and {request.waiting} note(s) that had not reached memory yet" if request.waiting else ""
    )
    messages = (
        f" I deleted the {deleted_messages} message(s) I had sent about them (confirmations,"
        " answers quoting them)."
        if deleted_messages
        else ""
    )
    return (
        f"🗑️ {whose}*{who}* {'are' if whose else 'is'} forgotten, as of "
        f"{done_at:%d %b %Y %H:%M} UTC: {calls} in memory (notes and transcripts, with every "
        f"fact and observation memory drew from them) and here{waiting}."
        f"{messages}{late} This cannot be undone. What I cannot remove: messages people posted "
        "in Slack themselves (such as one a note was logged from), and briefs, digests and "
        "/ask answers already shown in your conversations."
    )
