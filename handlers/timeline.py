"""`/timeline <prospect>`, its page buttons, and "did you mean" / "Timeline" buttons."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import ids
from bot.blocks.limits import quote_input
from bot.blocks.messages import STALE_BUTTON
from bot.services import Services
from bot.timeline.history import prospect_timeline
from bot.timeline.view import TIMELINE_USAGE, build_timeline_blocks
from handlers.slack_io import (
    Rendered,
    Reply,
    button_json,
    explained,
    prospect_from_button,
    reply_to,
    show_ephemeral,
    user_of,
    workspace_of,
)
from memory.prospects import prospect_slug

MAX_PAGE = 10_000


async def show_timeline(
    services: Services,
    respond: Reply,
    workspace_id: str,
    user_id: str,
    typed: str,
    page: int = 0,
    replace: bool = False,
) -> None:
    async def render() -> Rendered:
        timeline = await prospect_timeline(services, workspace_id, typed, page, user_id)
        text = f"Timeline for {quote_input(timeline.match.name)}"
        return text, build_timeline_blocks(timeline)

    await show_ephemeral(respond, "Timeline", render(), replace, services.busy_slots)


def read_page_value(value: Any) -> tuple[str, int] | None:
    """(prospect, page) from a page button's value; None when it is forged or stale."""
    wanted = button_json(value)
    if wanted is None:
        return None
    slug, page = wanted.get("slug"), wanted.get("page")
    if not isinstance(slug, str) or not prospect_slug(slug):
        return None
    if isinstance(page, bool) or not isinstance(page, int) or not 0 <= page <= MAX_PAGE:
        return None
    return slug, page


def register(app: AsyncApp, services: Services) -> None:
    @app.command("/timeline")
    @explained
    async def handle_timeline_command(
        ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext, respond: AsyncRespond
    ) -> None:
        typed = command.get("text", "").strip()
        if not typed:
            await ack(text=TIMELINE_USAGE)
            return
        await ack()
        await show_timeline(services, respond, workspace_of(context), user_of(context), typed)

    @app.action(re.compile(f"^{ids.TIMELINE_PAGE_ACTION}"))
    @explained
    async def handle_timeline_page(
        ack: AsyncAck, action: dict[str, Any], context: AsyncBoltContext, respond: AsyncRespond
    ) -> None:
        await ack()
        wanted = read_page_value(action.get("value"))
        if wanted is None:
            await respond(text=STALE_BUTTON, response_type="ephemeral", replace_original=False)
            return
        slug, page = wanted
        await show_timeline(
            services, respond, workspace_of(context), user_of(context), slug, page, True
        )

    @app.action(re.compile(f"^{ids.OPEN_TIMELINE_ACTION}"))
    @explained
    async def handle_open_timeline(
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
        await show_timeline(services, reply, workspace_of(context), user_of(context), typed)
