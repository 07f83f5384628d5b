"""`/forget <prospect>`: a confirmation that says exactly what goes, then every trace goes."""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import ids
from bot.blocks.limits import escape_mrkdwn, mrkdwn, plain
from bot.forget import ForgetPlan, forget, plan_forget
from bot.services import Services
from handlers.slack_io import explained, tell_rep, user_of, workspace_of

FORGET_USAGE = (
    "Usage: `/forget <prospect name>` deletes everything about that prospect: every note, "
    "transcript and what memory drew from them. You are asked to confirm first."
)


def build_forget_modal(plan: ForgetPlan) -> dict[str, Any]:
    transcripts = (
        f"{plan.transcripts} transcript{'s' if plan.transcripts != 1 else ''}"
        if plan.transcripts >= 0
        else "their transcripts"
    )
    text = (
        f"This deletes everything about *{escape_mrkdwn(plan.name)}*:\n"
        f"• {plan.notes} note{'s' if plan.notes != 1 else ''} and {transcripts}\n"
        "• every fact, observation and mental model memory drew from them\n"
        "• what SalesMemory keeps here: its index rows, notes not yet in memory, health, "
        "snoozes and drafts\n\n"
        "*It cannot be undone.* You get a receipt in your DM."
    )
    return {
        "type": "modal",
        "callback_id": ids.FORGET_MODAL_CALLBACK,
        "title": plain("Forget a prospect"),
        "submit": plain("Forget for good"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps({"slug": plan.slug, "name": plan.name}),
        "blocks": [{"type": "section", "text": mrkdwn(text)}],
    }


def notice_modal(text: str) -> dict[str, Any]:
    """The forget modal with only something to say (nothing to confirm)."""
    return {
        "type": "modal",
        "callback_id": ids.FORGET_MODAL_CALLBACK,
        "title": plain("Forget a prospect"),
        "close": plain("Close"),
        "blocks": [{"type": "section", "text": mrkdwn(escape_mrkdwn(text))}],
    }


def register(app: AsyncApp, services: Services) -> None:
    @app.command("/forget")
    @explained
    async def handle_forget_command(
        ack: AsyncAck,
        command: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        typed = command.get("text", "").strip()
        if not typed:
            await ack(text=FORGET_USAGE)
            return
        await ack()
        workspace_id, rep_id = workspace_of(context), user_of(context)
        plan = await plan_forget(services, client, workspace_id, rep_id, typed)
        if isinstance(plan, str):
            await respond(text=plan, response_type="ephemeral")
            return
        # The trigger has expired by now (memory was asked): the confirmation is a modal
        # opened from a button, so it comes from a fresh trigger.
        await respond(
            text=f"Forget {plan.name}?",
            response_type="ephemeral",
            blocks=[
                {
                    "type": "section",
                    "text": mrkdwn(
                        f"Forget *{escape_mrkdwn(plan.name)}*? You will see exactly what is "
                        "deleted before anything is."
                    ),
                },
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
            ],
        )

    @app.action(re.compile(f"^{ids.FORGET_REVIEW_ACTION}"))
    @explained
    async def handle_forget_review(
        ack: AsyncAck,
        action: dict[str, Any],
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        workspace_id, rep_id = workspace_of(context), user_of(context)
        # The button carries the name; the timeline's menu, its chosen option.
        typed = str(action.get("value") or (action.get("selected_option") or {}).get("value") or "")
        # The modal opens at once (the trigger expires in 3 s); what would go is counted after.
        opened = await client.views_open(
            trigger_id=str(body.get("trigger_id") or ""),
            view=notice_modal("Counting what would go…"),
        )
        view = opened.get("view") or {}
        plan = await plan_forget(services, client, workspace_id, rep_id, typed)
        shown = notice_modal(plan) if isinstance(plan, str) else build_forget_modal(plan)
        await client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=shown)

    @app.view(ids.FORGET_MODAL_CALLBACK)
    @explained
    async def handle_forget_confirmed(
        ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        await ack()
        workspace_id, rep_id = workspace_of(context), user_of(context)
        try:
            wanted = json.loads(view.get("private_metadata") or "{}")
        except json.JSONDecodeError:
            wanted = {}
        name = str(wanted.get("name") or "") if isinstance(wanted, dict) else ""
        # Asked again: whether they may, and what there is, as of now.
        plan = await plan_forget(services, client, workspace_id, rep_id, name)
        if isinstance(plan, str):
            await tell_rep(client, rep_id, plan)
            return
        async with services.busy_slots:
            await forget(services, client, workspace_id, plan, rep_id)
