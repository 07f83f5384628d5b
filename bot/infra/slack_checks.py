"""Start-up checks against Slack: a wrong token is one clear line, not a retry loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

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


def unreachable(error: BaseException) -> bool:
    """Whether `error` means Slack did not answer (as opposed to answering no)."""
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


BOT_TOKEN_HELP = "copy the Bot User OAuth Token from the app's OAuth & Permissions page."
APP_TOKEN_HELP = (
    "generate an app-level token with connections:write under Basic Information → App-Level Tokens."
)


def _refusal(error: SlackApiError, variable: str, help: str) -> SlackStartupError | None:
    """The error to stop on when Slack refused the token itself (retrying cannot help)."""
    code = error.response.get("error")
    if code in TOKEN_ERRORS:
        return SlackStartupError(f"{variable} was refused by Slack ({code}): {help}")
    return None


async def ask_bot_token(settings: Settings, timeout: float = CHECK_TIMEOUT) -> dict[str, Any]:
    """auth.test's answer for the bot token. A refused token raises SlackStartupError; any other
    Slack error SlackApiError; no answer an aiohttp, OS or timeout error (see `unreachable`)."""
    client = AsyncWebClient(
        token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=int(timeout)
    )
    try:
        return dict((await client.auth_test()).data)  # type: ignore[arg-type]
    except SlackApiError as error:
        raise _refusal(error, "SLACK_BOT_TOKEN", BOT_TOKEN_HELP) or error from None


async def open_app_connection(settings: Settings, timeout: float = CHECK_TIMEOUT) -> str:
    """apps.connections.open with the app token: the websocket's URL (not opened here); errors
    as `ask_bot_token`'s."""
    client = AsyncWebClient(base_url=settings.slack_api_url, timeout=int(timeout))
    try:
        opened = await client.apps_connections_open(app_token=settings.slack_app_token or "")
    except SlackApiError as error:
        raise _refusal(error, "SLACK_APP_TOKEN", APP_TOKEN_HELP) or error from None
    return str(opened.get("url", ""))


async def check_bot_token(settings: Settings, stop: asyncio.Event) -> bool:
    """auth.test with the bot token: a refused token stops start-up; no answer only warns
    (HTTP mode can still serve once Slack is reachable). False: stopped meanwhile."""
    try:
        if await unless_stopped(ask_bot_token(settings), stop) is None:
            return False
    except SlackApiError as error:
        logger.warning("auth.test answered %s; going on", error.response.get("error"))
    except Exception as error:
        if not unreachable(error):
            raise
        logger.warning(
            "Slack is not reachable at %s (%s); going on", masked_url(settings.slack_api_url), error
        )
    return True


async def check_app_token_once(settings: Settings, stop: asyncio.Event, timeout: float) -> bool:
    """One bounded apps.connections.open, before anything slow starts: a refused app token
    raises SlackStartupError at once. No answer is left to `check_app_token`, which retries.
    False: stopped meanwhile."""
    try:
        opened = asyncio.wait_for(open_app_connection(settings, timeout), timeout)
        return await unless_stopped(opened, stop) is not None
    except SlackApiError:
        return True
    except Exception as error:
        if not unreachable(error):
            raise
        return True


async def check_app_token(settings: Settings, stop: asyncio.Event) -> bool:
    """apps.connections.open with the app token, until it answers or `stop` is set.

    A refused token stops start-up; an unreachable Slack is retried with backoff, one log line
    each time. Returns False when stopped before Slack answered.
    """
    delay = 1.0
    while not stop.is_set():
        try:
            return await unless_stopped(open_app_connection(settings), stop) is not None
        except SlackApiError as error:
            code = error.response.get("error")
            logger.warning("apps.connections.open answered %s; retrying in %.0fs", code, delay)
        except Exception as error:
            if not unreachable(error):
                raise
            logger.warning(
                "Cannot reach Slack for Socket Mode (%s); retrying in %.0fs", error, delay
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        delay = min(delay * 2, MAX_WAIT)
    return False
