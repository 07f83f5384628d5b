"""`/timeline <prospect>`, its page buttons, and "did you mean" / "Timeline" buttons."""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.blocks import ids
from bot.blocks.messages import TIMELINE_USAGE
from bot.blocks.timeline import build_timeline_blocks
from bot.services import Services
from bot.timeline import prospect_timeline
from handlers.slack_io import Rendered, show_ephemeral


async def show_timeline(
    services: Services,
    respond: AsyncRespond,
    workspace_id: str,
    typed: str,
    page: int = 0,
    replace: bool = False,
) -> None:
    async def render() -> Rendered:
        timeline = await prospect_timeline(services, workspace_id, typed)
        return f"Timeline for {timeline.match.name}", build_timeline_blocks(timeline, page)

    await show_ephemeral(respond, f"Timeline for {typed!r}", render(), replace)


def register(app: AsyncApp, services: Services) -> None:
    @app.command("/timeline")
    async def handle_timeline_command(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond
    ) -> None:
        typed = command.get("text", "").strip()
        if not typed:
            await ack(text=TIMELINE_USAGE)
            return
        await ack()
        await show_timeline(services, respond, command["team_id"], typed)

    @app.action(re.compile(f"^{ids.TIMELINE_PAGE_ACTION}"))
    async def handle_timeline_page(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        wanted = json.loads(action["value"])
        await show_timeline(
            services, respond, body["team"]["id"], wanted["slug"], int(wanted["page"]), True
        )

    @app.action(re.compile(f"^{ids.OPEN_TIMELINE_ACTION}"))
    async def handle_open_timeline(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        await show_timeline(services, respond, body["team"]["id"], action["value"])
