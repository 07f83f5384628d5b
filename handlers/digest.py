"""`/digest`: the weekly digest now, and `/digest settings|on|off` for when it comes."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.digest.delivery import Delivery, send_digest
from bot.digest.settings import apply_digest_command, parse_digest_command
from bot.home.publish import refresh_home_later
from handlers.slack_io import explained, services_of, user_of, workspace_of

REPLIES = {
    Delivery.SENT: "Your digest is in your DMs from SalesMemory.",
    Delivery.NO_PROSPECTS: "You have no prospects yet: I sent you a DM on how to start.",
    Delivery.REP_GONE: "Slack says your account is not active, so I couldn't send it.",
    Delivery.FAILED: "I couldn't build your digest just now. Please try `/digest` again in "
    "a few minutes.",
}


@explained
async def handle_digest_command(
    ack: AsyncAck,
    command: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    parsed = parse_digest_command(command.get("text", ""))
    if isinstance(parsed, str):
        await ack(text=parsed)
        return
    services, workspace_id, rep_id = services_of(context), workspace_of(context), user_of(context)
    if parsed.kind != "now":
        await ack()
        tz = await services.timezones.zone(client, workspace_id, rep_id)
        reply = await apply_digest_command(
            services, workspace_id, rep_id, tz, parsed, services.clock()
        )
        await respond(text=reply, response_type="ephemeral")
        return
    await ack(text="🗂️ Ranking your pipeline…")
    async with services.busy_slots:
        outcome = await send_digest(services, client, workspace_id, rep_id)
    refresh_home_later(services, client, workspace_id, rep_id)
    await respond(text=REPLIES[outcome], response_type="ephemeral", replace_original=True)
