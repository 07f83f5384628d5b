"""Forgetting a prospect: every trace in memory and here, with a receipt and an audit line.

Who may: a rep who logged a call with the prospect, or a workspace admin or owner. The local
rows go first, in one transaction (a note still waiting for memory never reaches it); then
memory deletes every document about the prospect, and with them the facts, observations and
mental models built on them. When memory is down the request is kept and finished when it is
back; the receipt says when. A note delivered while the prospect was being forgotten is
deleted again on arrival (bot.outbox).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.access import is_admin
from bot.prospect_lookup import find_prospect
from bot.services import Services
from memory.index import ForgetRequest
from memory.store import MemoryUnavailable

logger = logging.getLogger(__name__)
audit = logging.getLogger("salesmemory.audit")

RESUME_EVERY_SECONDS = 30.0


@dataclass(frozen=True)
class ForgetPlan:
    """What forgetting a prospect would delete, for the confirmation."""

    slug: str
    name: str
    notes: int
    transcripts: int


async def plan_forget(
    services: Services, client: AsyncWebClient, workspace_id: str, rep_id: str, typed: str
) -> ForgetPlan | str:
    """What would be deleted, or why nothing will be (a message for the rep)."""
    match = await find_prospect(services.index, workspace_id, typed, services.seen_by(rep_id))
    if not match.known:
        suggestions = f" Did you mean {', '.join(match.suggestions)}?" if match.suggestions else ""
        return f"I don't know a prospect called that here, so nothing was deleted.{suggestions}"
    allowed = await services.index.has_logged(workspace_id, rep_id, match.slug)
    if not allowed and not await is_admin(client, rep_id):
        return (
            f"Only a rep who logged a call with {match.name}, or a workspace admin, can forget "
            "them. Nothing was deleted."
        )
    try:
        listed = await services.memory.listed_calls(workspace_id, match.slug)
        transcripts = sum(1 for call in listed if call.has_transcript)
        notes = len(listed)
    except MemoryUnavailable:
        known = await services.index.prospect(workspace_id, match.slug)
        notes, transcripts = (known.interactions if known else 0), -1
    waiting = await services.index.waiting(workspace_id, match.slug)
    return ForgetPlan(match.slug, match.name, notes + len(waiting), transcripts)


async def forget(
    services: Services, client: AsyncWebClient, workspace_id: str, plan: ForgetPlan, by: str
) -> ForgetRequest:
    """Delete the local rows now and memory's documents now or when memory is back."""
    request = await services.index.start_forget(
        workspace_id, plan.slug, plan.name, by, services.clock()
    )
    audit.info(
        "forget requested workspace=%s prospect=%s by=%s at=%s",
        workspace_id,
        plan.slug,
        by,
        request.requested_at.isoformat(),
    )
    await finish(services, client, request)
    return request


async def finish(services: Services, client: AsyncWebClient, request: ForgetRequest) -> bool:
    """Memory's part of a forget; the receipt goes out once. False when memory is down."""
    try:
        documents = await services.memory.forget_prospect(request.workspace_id, request.slug)
    except MemoryUnavailable:
        logger.warning("Memory is unreachable: forgetting %s resumes when it is back", request.slug)
        return False
    done_at = services.clock()
    if await services.index.finish_forget(request, documents, done_at):
        audit.info(
            "forget done workspace=%s prospect=%s by=%s at=%s documents=%d",
            request.workspace_id,
            request.slug,
            request.requested_by,
            done_at.isoformat(),
            documents,
        )
        await _receipt(client, request, documents, done_at)
    return True


async def _receipt(
    client: AsyncWebClient, request: ForgetRequest, documents: int, done_at: datetime
) -> None:
    late = (
        " Memory was unreachable when you asked, so it finished once memory was back."
        if (done_at - request.requested_at).total_seconds() > 60
        else ""
    )
    text = (
        f"🗑️ *{request.name}* is forgotten, as of {done_at:%d %b %Y %H:%M} UTC: "
        f"{documents} document{'s' if documents != 1 else ''} in memory (notes and transcripts, "
        "with every fact and observation memory drew from them), "
        f"{request.notes} call record{'s' if request.notes != 1 else ''} here"
        + (
            f" and {request.waiting} note(s) that had not reached memory yet"
            if request.waiting
            else ""
        )
        + f".{late} This cannot be undone."
    )
    try:
        await client.chat_postMessage(channel=request.requested_by, text=text)
    except SlackApiError:
        logger.exception("Could not send the forget receipt to %s", request.requested_by)


async def resume_forgets(services: Services, client: AsyncWebClient) -> int:
    """Finish the forgets memory was down for; returns how many finished now."""
    finished = 0
    for request in await services.index.unfinished_forgets():
        finished += await finish(services, client, request)
    return finished


async def resume_in_background(
    services: Services, client: AsyncWebClient, stop: asyncio.Event
) -> None:
    """Every half minute, finish what an outage left unfinished, until `stop`."""
    while not stop.is_set():
        try:
            await resume_forgets(services, client)
        except Exception:
            logger.exception("Resuming forgets failed; trying again shortly")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RESUME_EVERY_SECONDS)
