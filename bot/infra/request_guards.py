"""What stands before every listener: a request naming no workspace or no user gets a plain
answer at once, and a request Slack sends again is acknowledged without doing the work twice
(the claim is shared through the database, so across replicas and restarts)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from slack_bolt.response import BoltResponse

from bot.blocks.messages import NO_WORKSPACE
from bot.services import Services

logger = logging.getLogger(__name__)

Next = Callable[[], Awaitable[BoltResponse]]

# A claim stands between the request and its ack, which Slack waits 3 s for: it gives up on
# a locked database this soon, leaving the listener (a call's save: handlers.log) the rest.
CLAIM_WAIT = 0.4
# How long a plain answer to a request naming no one may take.
ANSWER_TIMEOUT = 1.0
# Where the context keeps the moment (time.monotonic()) the request reached the middleware.
ARRIVED = "salesmemory_arrived"
# Longer ids (forged ones) are kept as their hash: the key column has a fixed width.
_MAX_KEY = 100


def request_key(body: dict[str, Any]) -> str | None:
    """What stays the same when Slack sends a request again: its event or trigger id."""
    for field in ("event_id", "trigger_id"):
        value = body.get(field)
        if isinstance(value, str) and value:
            key = f"{field}:{value}"
            if len(key) > _MAX_KEY:
                key = f"{field}#" + hashlib.sha256(value.encode()).hexdigest()
            return key
    return None


def arrived_at(context: AsyncBoltContext) -> float:
    """When the request reached the app (time.monotonic()), so a listener's own deadline
    counts what the guards took too; now when no guard saw it (a listener called directly)."""
    arrived = context.get(ARRIVED)
    return arrived if isinstance(arrived, float) else time.monotonic()


def retries_once(services: Services) -> Callable[..., Awaitable[BoltResponse | None]]:
    """Middleware: the first process to claim a request's key runs it; copies get an empty
    200. When the database does not answer within CLAIM_WAIT the request runs: doing a
    retry's work twice is better than dropping a rep's request."""
    claims = services.index.quick_claims(CLAIM_WAIT)

    async def do_retries_once(
        body: dict[str, Any], context: AsyncBoltContext, next: Next
    ) -> BoltResponse | None:
        context[ARRIVED] = time.monotonic()
        key = request_key(body)
        if key is None:
            return await next()
        try:
            # The database gives up at CLAIM_WAIT itself; the outer bound only guards against
            # one that hangs outright (or a claim queued behind others).
            first = await asyncio.wait_for(
                claims.claim_request(key, services.clock()), CLAIM_WAIT + 0.1
            )
        except Exception as error:
            logger.warning(
                "Could not claim a Slack request (%s); handling it", type(error).__name__
            )
            first = True
        if not first:
            logger.info("Slack sent %s again; it was handled the first time", key)
            return BoltResponse(status=200, body="")
        return await next()

    return do_retries_once


async def answer_requests_naming_no_one(
    body: dict[str, Any], context: AsyncBoltContext, next: Next
) -> BoltResponse | None:
    """Middleware: a request without the workspace (or, but for events, the user) every
    listener needs is answered here, plainly and within Slack's 3 s, and goes no further."""
    kind = str(body.get("type") or ("slash_command" if "command" in body else "unknown"))
    workspace = context.team_id or context.enterprise_id
    if workspace and (context.user_id or kind == "event_callback"):
        return await next()
    logger.info("A %s request named no workspace or no user; answered without acting", kind)
    if kind == "slash_command":
        return BoltResponse(status=200, body=NO_WORKSPACE)  # shown to whoever ran it
    if kind == "block_suggestion":
        return _json_response({"options": []})
    if kind == "view_submission":
        block_id = _first_input_block(body.get("view"))
        if block_id is not None:
            # The form stays open with everything typed in it, and says why.
            return _json_response({"response_action": "errors", "errors": {block_id: NO_WORKSPACE}})
    elif context.respond is not None:
        try:
            await asyncio.wait_for(
                context.respond(
                    text=NO_WORKSPACE, response_type="ephemeral", replace_original=False
                ),
                ANSWER_TIMEOUT,
            )
        except Exception as error:
            logger.warning("Could not answer a request naming no one (%s)", type(error).__name__)
    return BoltResponse(status=200, body="")


def _first_input_block(view: Any) -> str | None:
    blocks = view.get("blocks") if isinstance(view, dict) else None
    for block in blocks if isinstance(blocks, list) else ():
        if isinstance(block, dict) and block.get("type") == "input" and block.get("block_id"):
            return str(block["block_id"])
    return None


def _json_response(answer: dict[str, Any]) -> BoltResponse:
    return BoltResponse(
        status=200, body=json.dumps(answer), headers={"content-type": "application/json"}
    )
