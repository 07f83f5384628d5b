"""Small Slack calls the listeners share; a Slack error is logged with its traceback."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

logger = logging.getLogger(__name__)


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
