"""Start-up checks against Slack: a wrong token is one clear line, not a retry loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from typing import TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings, masked_url

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Errors that mean the token itself is wrong: retrying cannot help.
TOKEN_ERRORS = {
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "token_expired",
    "account_inactive",
    "not_allowed_token_type",
    "invalid_token",
}
CHECK_TIMEOUT = 10  # seconds
MAX_WAIT = 60.0


class SlackStartupError(Exception):
    """A token Slack refuses; the message names the variable and what to do."""


def _unreachable(error: BaseException) -> bool:
    return isinstance(error, aiohttp.ClientError | OSError | TimeoutError)


async def unless_stopped(work: Awaitable[T], stop: asyncio.Event) -> T | None:
    """`work`'s result, or None (and `work` cancelled) if `stop` is set first."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return None


async def check_bot_token(settings: Settings, stop: asyncio.Event) -> bool:
    """auth.test with the bot token: a refused token stops start-up; no answer only warns
    (HTTP mode can still serve once Slack is reachable). False: stopped meanwhile."""
    client = AsyncWebClient(
        token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=CHECK_TIMEOUT
    )
    try:
        if await unless_stopped(client.auth_test(), stop) is None:
            return False
    except SlackApiError as error:
        code = error.response.get("error")
        if code in TOKEN_ERRORS:
            raise SlackStartupError(
                f"SLACK_BOT_TOKEN was refused by Slack ({code}): copy the Bot User OAuth Token "
                "from the app's OAuth & Permissions page."
            ) from None
        logger.warning("auth.test answered %s; going on", code)
    except Exception as error:
        if not _unreachable(error):
            raise
        logger.warning(
            "Slack is not reachable at %s (%s); going on", masked_url(settings.slack_api_url), error
        )
    return True


async def check_app_token(settings: Settings, stop: asyncio.Event) -> bool:
    """apps.connections.open with the app token, until it answers or `stop` is set.

    A refused token stops start-up; an unreachable Slack is retried with backoff, one log line
    each time. Returns False when stopped before Slack answered.
    """
    client = AsyncWebClient(base_url=settings.slack_api_url, timeout=CHECK_TIMEOUT)
    delay = 1.0
    while not stop.is_set():
        try:
            opened = client.apps_connections_open(app_token=settings.slack_app_token or "")
            return await unless_stopped(opened, stop) is not None
        except SlackApiError as error:
            code = error.response.get("error")
            if code in TOKEN_ERRORS:
                raise SlackStartupError(
                    f"SLACK_APP_TOKEN was refused by Slack ({code}): generate an app-level token "
                    "with connections:write under Basic Information → App-Level Tokens."
                ) from None
            logger.warning("apps.connections.open answered %s; retrying in %.0fs", code, delay)
        except Exception as error:
            if not _unreachable(error):
                raise
            logger.warning(
                "Cannot reach Slack for Socket Mode (%s); retrying in %.0fs", error, delay
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        delay = min(delay * 2, MAX_WAIT)
    return False
