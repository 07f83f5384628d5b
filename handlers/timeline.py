"""`/timeline <prospect>`, its page buttons, and "did you mean" / "Timeline" buttons."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.limits import quote_input
from bot.blocks.messages import STALE_BUTTON
from bot.timeline.history import prospect_timeline
from bot.timeline.view import TIMELINE_USAGE, build_timeline_blocks
from handlers.prospect_io import ProspectAsk, open_from_button, prospect_command
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

MAX_PAGE = 10_000


async def show_timeline(ask: ProspectAsk, page: int = 0) -> None:
    services = ask.services

    async def render() -> Rendered:
        timeline = await prospect_timeline(services, ask.workspace_id, ask.typed, page, ask.user_id)
        text = f"Timeline for {quote_input(timeline.match.name)}"
        return text, build_timeline_blocks(timeline)

    await show_ephemeral(ask.reply, "Timeline", render(), ask.replace, services.busy_slots)


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


@explained
async def handle_timeline_command(
    ack: AsyncAck,
    command: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    await prospect_command(
        ack, command, context, client, respond, usage=TIMELINE_USAGE, answer=show_timeline
    )


@explained
async def handle_timeline_page(
    ack: AsyncAck,
    action: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    await ack()
    wanted = read_page_value(action.get("value"))
    if wanted is None:
        await respond(text=STALE_BUTTON, response_type="ephemeral", replace_original=False)
        return
    slug, page = wanted
    ask = ProspectAsk(
        services_of(context),
        client,
        respond,
        workspace_of(context),
        user_of(context),
        slug,
        replace=True,
    )
    await show_timeline(ask, page)


@explained
async def handle_open_timeline(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    await open_from_button(ack, action, body, context, client, respond, answer=show_timeline)
