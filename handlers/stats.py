"""`/salesmemory stats`: the model's usage in this workspace this week."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond

from bot.stats.usage import feedback_this_week, usage_this_week
from bot.stats.view import STATS_USAGE, build_stats_blocks
from handlers.slack_io import explained, services_of, workspace_of


@explained
async def handle_salesmemory_command(
    ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext, respond: AsyncRespond
) -> None:
    if command.get("text", "").strip().lower() != "stats":
        await ack(text=STATS_USAGE)
        return
    await ack()
    services = services_of(context)
    llm = services.llm
    usage = await usage_this_week(services, workspace_of(context))
    feedback = await feedback_this_week(services, workspace_of(context))
    text, blocks = build_stats_blocks(
        usage,
        llm.fast_model if llm is not None else None,
        llm.model if llm is not None else None,
        feedback,
    )
    await respond(text=text, blocks=blocks, response_type="ephemeral")
