"""Small Slack calls the listeners share; a Slack error is logged with its traceback."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from slack_bolt.async_app import AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.messages import MEMORY_DOWN, NO_WORKSPACE, STALE_BUTTON, something_broke
from bot.services import Services
from memory.prospects import MAX_PROSPECT_NAME, NAME_TOO_LONG, ProspectNameTooLong, prospect_slug
from memory.store import MemoryUnavailable

logger = logging.getLogger(__name__)

Rendered = tuple[str, list[dict[str, Any]]]


# Where the app's services ride in each request's context (see `carry_services`).
SERVICES = "services"


def carry_services(services: Services) -> Callable[..., Awaitable[Any]]:
    """Global middleware: every listener finds the app's services in its `context`, so the
    listeners are plain module-level functions, not closures over `register`'s argument.
    (A lazy listener would get a deep copy of the context: none is used.)"""

    async def put_services(context: AsyncBoltContext, next: Callable[[], Awaitable[Any]]) -> Any:
        context[SERVICES] = services
        return await next()

    return put_services


def services_of(context: AsyncBoltContext) -> Services:
    """The app's services, as `carry_services` put them in the request's context."""
    found = context.get(SERVICES)
    if not isinstance(found, Services):
        raise RuntimeError("the request carries no services: is carry_services registered?")
    return found


class NoWorkspace(Exception):
    """A request with neither a workspace nor an organisation: there is no bank to use."""


def workspace_of(context: AsyncBoltContext) -> str:
    """The bank a request belongs to: its workspace, or, for an org-wide install acting
    outside any one workspace (Enterprise Grid, `team: null`), its organisation."""
    found = context.team_id or context.enterprise_id
    if not found:
        raise NoWorkspace("the request names no workspace or organisation")
    return found


def user_of(context: AsyncBoltContext) -> str:
    if not context.user_id:
        raise NoWorkspace("the request names no user")
    return context.user_id


def reference_id() -> str:
    """A short id a rep can quote and an admin can find in the log."""
    return uuid.uuid4().hex[:8]


def plain_answer(error: BaseException) -> str | None:
    """What to tell the rep about a request refused for what it carried (theirs to change,
    not a fault of ours, so no traceback and no reference id); None for anything else."""
    if isinstance(error, ProspectNameTooLong):
        return NAME_TOO_LONG
    if isinstance(error, NoWorkspace):
        return NO_WORKSPACE
    return None


async def explain_failure(error: BaseException, context: AsyncBoltContext, where: str) -> None:
    """Tell the rep why a request was refused (see `plain_answer`); log anything else with
    a reference id and tell the rep, in plain words, with it."""
    text = plain_answer(error)
    if text is not None:
        logger.info("%s refused: %s", where, type(error).__name__)
    else:
        ref = reference_id()
        logger.error("%s failed (ref %s)", where, ref, exc_info=error)
        text = something_broke(ref)
    try:
        if context.respond is not None:
            await context.respond(text=text, response_type="ephemeral", replace_original=False)
        elif context.user_id and context.client is not None:
            await context.client.chat_postMessage(channel=context.user_id, text=text)
    except Exception:
        logger.exception("Could not tell the rep why %s did not finish", where)


Listener = TypeVar("Listener", bound=Callable[..., Awaitable[None]])


def explained(listener: Listener) -> Listener:
    """A listener whose unexpected errors are explained to the rep (see `explain_failure`).

    Bolt's own error path answers Slack 404 when a listener fails just after `ack()` (it
    resets the ack), so the explanation happens here, inside the listener.
    """

    @functools.wraps(listener)
    async def run(**kwargs: Any) -> None:
        try:
            await listener(**kwargs)
        except Exception as error:
            await explain_failure(error, kwargs["context"], listener.__name__)

    return cast(Listener, run)


async def tell_rep(client: AsyncWebClient, user_id: str, text: str) -> None:
    """A direct message to the rep (works wherever the action came from)."""
    try:
        await client.chat_postMessage(channel=user_id, text=text)
    except SlackApiError:
        logger.exception("Could not send a DM to %s", user_id)


async def show_ephemeral(
    respond: Reply,
    what: str,
    render: Awaitable[Rendered],
    replace: bool,
    slots: asyncio.Semaphore,
) -> None:
    """Post what `render` makes to the rep once one of the busy `slots` is free; if it fails,
    say so plainly instead of silence."""
    blocks: list[dict[str, Any]] | None
    try:
        async with slots:
            text, blocks = await render
    except MemoryUnavailable:
        logger.exception("%s: memory unavailable", what)
        text, blocks = MEMORY_DOWN, None
    except ProspectNameTooLong:
        text, blocks = NAME_TOO_LONG, None
    except Exception:
        ref = reference_id()
        logger.exception("%s failed (ref %s)", what, ref)
        text, blocks = something_broke(ref), None
    await respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=replace)


# Where an answer goes: Bolt's `respond` (a response URL), or the rep's DM (see `reply_to`).
Reply = Callable[..., Awaitable[Any]]


def reply_to(
    body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient, user_id: str
) -> Reply:
    """The response URL when the request has one; App Home's buttons have none, so their
    answer goes to the rep's DM with the app."""
    if body.get("response_url") or body.get("response_urls"):
        return respond

    async def to_dm(text: str = "", blocks: Any = None, **_: Any) -> None:
        await client.chat_postMessage(channel=user_id, text=text, blocks=blocks)

    return to_dm


def button_json(value: Any) -> dict[str, Any] | None:
    """The JSON object a button's value carries; None when it is not one (forged, stale)."""
    try:
        wanted = json.loads(value) if isinstance(value, str) else None
    except json.JSONDecodeError:
        return None
    return wanted if isinstance(wanted, dict) else None


async def prospect_from_button(action: dict[str, Any], respond: Reply) -> str | None:
    """The prospect name a button carries; a forged or empty one gets a short message."""
    typed = action.get("value")
    if isinstance(typed, str) and len(typed) > MAX_PROSPECT_NAME:
        await respond(text=NAME_TOO_LONG, response_type="ephemeral", replace_original=False)
        return None
    if isinstance(typed, str) and prospect_slug(typed):
        return typed
    await respond(text=STALE_BUTTON, response_type="ephemeral", replace_original=False)
    return None
