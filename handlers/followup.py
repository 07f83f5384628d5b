"""`/followup <prospect>` and the "Draft follow-up", "Shorter", "More formal" and "Regenerate"
buttons: a draft shown to the rep alone, never sent."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.limits import quote_input
from bot.blocks.messages import STALE_BUTTON
from bot.followup.draft import STYLES, draft_to_log, make_followup, sent_entry_id, sent_note
from bot.followup.view import FOLLOWUP_USAGE, SENT_DRAFT_GONE, build_followup_blocks
from handlers.log import Prefill, open_log_modal
from handlers.prospect_io import ProspectAsk, prospect_command
from handlers.slack_io import (
    Rendered,
    button_json,
    explained,
    services_of,
    show_ephemeral,
    user_of,
    workspace_of,
)
from memory.prospects import prospect_slug
from memory.records import FOLLOW_UP_SENT

# The draft's own buttons replace it; those on a brief or a confirmation add a new message.
_REPLACING = ("_shorter", "_formal", "_again", "_retry")
DRAFTING = "✍️ Drafting a follow-up for {} from every call logged…"


def read_followup_value(value: Any) -> tuple[str, str] | None:
    """(prospect, style) from a draft button's value; None when it is forged or stale."""
    wanted = button_json(value)
    if wanted is None:
        return None
    prospect, style = wanted.get("p"), wanted.get("s", "")
    if not isinstance(prospect, str) or not prospect_slug(prospect):
        return None
    if not isinstance(style, str) or style not in STYLES:
        return None
    return prospect, style


async def show_followup(ask: ProspectAsk, style: str = "", keep_previous: bool = False) -> None:
    """Draft and show it; `keep_previous`: a redraft that fails does not replace the draft it
    was asked from (and its Log as sent)."""
    services = ask.services
    drafted = False

    async def render() -> Rendered:
        nonlocal drafted
        tz = await services.timezones.zone(ask.client, ask.workspace_id, ask.user_id)
        result = await make_followup(services, ask.workspace_id, ask.typed, tz, style, ask.user_id)
        drafted = result.draft is not None
        return f"Follow-up draft: {quote_input(result.match.name)}", build_followup_blocks(result)

    async def answer(**message: Any) -> None:
        if keep_previous and not drafted:
            message["replace_original"] = False
        await ask.reply(**message)

    await show_ephemeral(answer, "Follow-up", render(), ask.replace, services.busy_slots)


@explained
async def handle_followup_command(
    ack: AsyncAck,
    command: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    await prospect_command(
        ack,
        command,
        context,
        client,
        respond,
        usage=FOLLOWUP_USAGE,
        working=DRAFTING,
        answer=show_followup,
    )


@explained
async def handle_draft_followup(
    ack: AsyncAck,
    action: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    await ack()
    wanted = read_followup_value(action.get("value"))
    if wanted is None:
        await respond(text=STALE_BUTTON, response_type="ephemeral", replace_original=False)
        return
    prospect, style = wanted
    replace = str(action.get("action_id", "")).endswith(_REPLACING)
    if not replace:
        # From a brief or a confirmation the draft comes as a new message, in a few
        # seconds: say it is coming rather than leave the click unanswered.
        await respond(
            text=DRAFTING.format(quote_input(prospect)),
            response_type="ephemeral",
            replace_original=False,
        )
    ask = ProspectAsk(
        services_of(context),
        client,
        respond,
        workspace_of(context),
        user_of(context),
        prospect,
        replace,
    )
    await show_followup(ask, style, keep_previous=replace)


@explained
async def handle_log_followup_sent(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    """Open the call log with the email as drafted, as a "Follow-up email sent" entry:
    the rep makes it what they really sent, then saves it (once per draft)."""
    await ack()
    draft_id = action.get("value")
    services, workspace_id, rep_id = services_of(context), workspace_of(context), user_of(context)
    if not isinstance(draft_id, str) or not re.fullmatch(r"[0-9a-f]{32}", draft_id):
        await respond(text=STALE_BUTTON, response_type="ephemeral", replace_original=False)
        return
    # Only local reads before views.open: the trigger expires in 3 s.
    draft, logged = await draft_to_log(services, workspace_id, rep_id, draft_id)
    if draft is None or logged:
        said = SENT_DRAFT_GONE
        if draft is not None:
            said = f"That follow-up to {quote_input(draft.recipient)} is already logged as sent."
        await respond(text=said, response_type="ephemeral", replace_original=False)
        return
    note, rest = sent_note(draft)
    prefill = Prefill(
        note=note,
        transcript=rest or "",
        notice=(
            "The follow-up as drafted. If what you sent differs, make it match before "
            "you save: the next brief reads this."
        ),
        outcome=FOLLOW_UP_SENT,
        entry_id=sent_entry_id(draft_id),
    )
    trigger_id = str(body.get("trigger_id") or "")
    if not await open_log_modal(
        services, client, trigger_id, rep_id, workspace_id, draft.prospect, prefill
    ):
        await respond(
            text="I couldn't open the form just now. Please press Log as sent again.",
            response_type="ephemeral",
            replace_original=False,
        )
