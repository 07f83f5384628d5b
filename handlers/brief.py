"""`/brief <prospect>` and the "did you mean" buttons that open a brief."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.limits import quote_input
from bot.brief.prepare import make_brief
from bot.brief.view import BRIEF_USAGE, build_brief_blocks
from handlers.prospect_io import ProspectAsk, open_from_button, prospect_command
from handlers.slack_io import Rendered, explained, show_ephemeral


async def show_brief(ask: ProspectAsk) -> None:
    services = ask.services

    async def render() -> Rendered:
        tz = await services.timezones.zone(ask.client, ask.workspace_id, ask.user_id)
        result = await make_brief(services, ask.workspace_id, ask.typed, tz, rep_id=ask.user_id)
        return f"Pre-call brief: {quote_input(result.match.name)}", build_brief_blocks(result)

    await show_ephemeral(ask.reply, "Brief", render(), ask.replace, services.busy_slots)


@explained
async def handle_brief_command(
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
        usage=BRIEF_USAGE,
        working="🔎 Recalling {}…",
        answer=show_brief,
    )


@explained
async def handle_open_brief(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    await open_from_button(ack, action, body, context, client, respond, answer=show_brief)
