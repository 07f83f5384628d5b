"""Sending a rep their digest as a DM; one rep's failure is reported, never raised past them."""

from __future__ import annotations

import enum
import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.digest.ranking import make_digest
from bot.digest.view import NO_PROSPECTS, build_digest_blocks
from bot.services import Services
from memory.store import MemoryUnavailable

logger = logging.getLogger(__name__)

GONE_ERRORS = {"user_not_found", "account_inactive", "user_disabled"}


class Delivery(enum.Enum):
    SENT = "sent"
    NO_PROSPECTS = "no prospects"  # got the "log your first call" DM
    REP_GONE = "rep left the workspace"
    FAILED = "failed"


async def rep_timezone_or_gone(client: AsyncWebClient, rep_id: str) -> tuple[str | None, bool]:
    """(time zone, gone): gone when Slack says the rep left or was deactivated."""
    try:
        response = await client.users_info(user=rep_id)
    except SlackApiError as error:
        if error.response.get("error") in GONE_ERRORS:
            return None, True
        raise
    user = response.get("user") or {}
    if user.get("deleted"):
        return None, True
    tz = user.get("tz")
    return (tz if isinstance(tz, str) and tz else None), False


async def send_digest(
    services: Services,
    client: AsyncWebClient,
    workspace_id: str,
    rep_id: str,
) -> Delivery:
    """Build and DM one rep's digest now. Never raises: the outcome says what happened."""
    try:
        tz, gone = await rep_timezone_or_gone(client, rep_id)
        if gone:
            logger.warning("Rep %s has left workspace %s", rep_id, workspace_id)
            return Delivery.REP_GONE
        digest = await make_digest(services, workspace_id, rep_id, services.today(tz))
        channel = (await client.conversations_open(users=rep_id))["channel"]["id"]
        if digest is None:
            await client.chat_postMessage(channel=channel, text=NO_PROSPECTS)
            return Delivery.NO_PROSPECTS
        await client.chat_postMessage(
            channel=channel,
            text=f"Your week: {len(digest.items)} prospects ranked",
            blocks=build_digest_blocks(digest),
        )
        return Delivery.SENT
    except SlackApiError as error:
        if error.response.get("error") in GONE_ERRORS:
            logger.warning("Rep %s has left workspace %s", rep_id, workspace_id)
            return Delivery.REP_GONE
        logger.exception("Slack refused the digest for %s", rep_id)
    except MemoryUnavailable:
        logger.exception("Memory unavailable for %s's digest", rep_id)
    except Exception:
        logger.exception("Digest for %s failed", rep_id)
    return Delivery.FAILED
