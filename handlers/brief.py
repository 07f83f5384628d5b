"""`/brief <prospect>` and the "did you mean" buttons that open a brief."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import ids
from bot.blocks.limits import quote_input
from bot.brief.prepare import make_brief
from bot.brief.view import BRIEF_USAGE, build_brief_blocks
from bot.services import Services
from handlers.slack_io import (
    Rendered,
    Reply,
    explained,
    prospect_from_button,
    reply_to,
    show_ephemeral,
    user_of,
    workspace_of,
)


async def show_brief(
    services: Services,
    client: AsyncWebClient,
    respond: Reply,
    workspace_id: str,
    user_id: str,
    typed: str,
    replace: bool,
) -> None:
    async def render() -> Rendered:
        tz = await services.timezones.zone(client, workspace_id, user_id)
        result = await make_brief(services, workspace_id, typed, tz, rep_id=user_id)
        return f"Pre-call brief: {quote_input(result.match.name)}", build_brief_blocks(result)

    await show_ephemeral(respond, "Brief", render(), replace, services.busy_slots)


def register(app: AsyncApp, services: Services) -> None:
    @app.command("/brief")
    @explained
    async def handle_brief_command(
        ack: AsyncAck,
        command: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        typed = command.get("text", "").strip()
        if not typed:
            await ack(text=BRIEF_USAGE)
            return
        await ack(response_type="ephemeral", text=f"🔎 Recalling {quote_input(typed)}…")
        await show_brief(
            services, client, respond, workspace_of(context), user_of(context), typed, True
        )

    @app.action(re.compile(f"^{ids.OPEN_BRIEF_ACTION}"))
    @explained
    async def handle_open_brief(
        ack: AsyncAck,
        action: dict[str, Any],
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        reply = reply_to(body, respond, client, user_of(context))
        typed = await prospect_from_button(action, reply)
        if typed is None:
            return
        await show_brief(
            services, client, reply, workspace_of(context), user_of(context), typed, False
        )
