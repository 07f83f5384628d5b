"""`/salesmemory stats`: the model's usage in this workspace this week."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot.services import Services
from bot.stats.view import STATS_USAGE, build_stats_blocks
from handlers.slack_io import explained, workspace_of

STATS_PERIOD = timedelta(days=7)


def register(app: AsyncApp, services: Services) -> None:
    @app.command("/salesmemory")
    @explained
    async def handle_salesmemory_command(
        ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext, respond: AsyncRespond
    ) -> None:
        if command.get("text", "").strip().lower() != "stats":
            await ack(text=STATS_USAGE)
            return
        await ack()
        llm = services.llm
        usage = await services.index.llm_usage_since(
            workspace_of(context), services.clock() - STATS_PERIOD
        )
        text, blocks = build_stats_blocks(
            usage,
            llm.fast_model if llm is not None else None,
            llm.model if llm is not None else None,
        )
        await respond(text=text, blocks=blocks, response_type="ephemeral")
