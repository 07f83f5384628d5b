"""`/forget <prospect>`: a confirmation that says exactly what goes, then exactly that goes."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.forget import view as forget_view
from bot.forget.erase import confirm_forget, plan_forget
from handlers.prospect_io import ProspectAsk, prospect_command
from handlers.slack_io import explained, services_of, tell_rep, user_of, workspace_of


async def offer_forget(ask: ProspectAsk) -> None:
    """What would go, with a button to review it; or why nothing can."""
    plan = await plan_forget(ask.services, ask.client, ask.workspace_id, ask.user_id, ask.typed)
    if isinstance(plan, str):
        await ask.reply(text=plan, response_type="ephemeral")
        return
    # The confirmation is a modal opened from a button, so it has a fresh trigger (this
    # command's may have expired while Slack was asked who is an admin).
    text, blocks = forget_view.forget_offer(plan)
    await ask.reply(text=text, response_type="ephemeral", blocks=blocks)


@explained
async def handle_forget_command(
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
        usage=forget_view.FORGET_USAGE,
        answer=offer_forget,
    )


@explained
async def handle_forget_review(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
) -> None:
    await ack()
    services, workspace_id, rep_id = services_of(context), workspace_of(context), user_of(context)
    # The button carries the name; the timeline's menu, its chosen option.
    typed = str(action.get("value") or (action.get("selected_option") or {}).get("value") or "")
    # The modal opens at once (the trigger expires in 3 s); what would go is counted after.
    opened = await client.views_open(
        trigger_id=str(body.get("trigger_id") or ""), view=forget_view.counting_modal()
    )
    shown = opened.get("view") or {}
    plan = await plan_forget(services, client, workspace_id, rep_id, typed)
    modal = (
        forget_view.notice_modal(plan)
        if isinstance(plan, str)
        else forget_view.build_forget_modal(plan)
    )
    await client.views_update(view_id=shown.get("id"), hash=shown.get("hash"), view=modal)


@explained
async def handle_forget_confirmed(
    ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    await ack()
    services, workspace_id, rep_id = services_of(context), workspace_of(context), user_of(context)
    try:
        wanted = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        wanted = {}
    if not isinstance(wanted, dict):
        wanted = {}
    # Asked again, as of now: who is acting, what they may erase, what there is.
    async with services.busy_slots:
        said = await confirm_forget(
            services,
            client,
            workspace_id,
            rep_id,
            str(wanted.get("name") or ""),
            str(wanted.get("scope") or ""),
        )
    if said is not None:
        await tell_rep(client, rep_id, said)
