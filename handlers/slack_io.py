"""Small Slack calls the listeners share; a Slack error is logged with its traceback."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

from slack_bolt.async_app import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.messages import MEMORY_DOWN, SOMETHING_BROKE
from memory.store import MemoryUnavailable

logger = logging.getLogger(__name__)

Rendered = tuple[str, list[dict[str, Any]]]


async def rep_timezone(client: AsyncWebClient, user_id: str) -> str | None:
    """The rep's Slack time zone (e.g. "Europe/London"), or None when Slack won't say."""
    try:
        response = await client.users_info(user=user_id)
    except SlackApiError:
        logger.exception("users.info failed for %s; using UTC", user_id)
        return None
    user = response.get("user") or {}
    tz = user.get("tz")
    return tz if isinstance(tz, str) and tz else None


async def tell_rep(client: AsyncWebClient, user_id: str, text: str) -> None:
    """A direct message to the rep (works wherever the action came from)."""
    try:
        await client.chat_postMessage(channel=user_id, text=text)
    except SlackApiError:
        logger.exception("Could not send a DM to %s", user_id)


async def show_ephemeral(
    respond: AsyncRespond, what: str, render: Awaitable[Rendered], replace: bool
) -> None:
    """Post what `render` makes to the rep; if it fails, say so plainly instead of silence."""
    blocks: list[dict[str, Any]] | None
    try:
        text, blocks = await render
    except MemoryUnavailable:
        logger.exception("%s: memory unavailable", what)
        text, blocks = MEMORY_DOWN, None
    except Exception:
        logger.exception("%s failed", what)
        text, blocks = SOMETHING_BROKE, None
    await respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=replace)
