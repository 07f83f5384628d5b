"""Erasure: exactly the calls a rep may erase, as they were when the rep confirmed, and
nothing of them left behind.

Who may erase what: any rep the calls they logged; every rep's calls on a prospect, a
workspace admin or owner, or a rep when every call on it is theirs. An admin finds any
prospect under either visibility. Every step (command, review, confirmation) asks again who
is acting; nothing a payload carries is trusted.

The confirmation counts from the local index, so it opens while memory is down or hung. On
confirmation the calls are recorded by id and their local rows go in one transaction; then
memory deletes exactly those documents (and what it drew from them), within a bound. When
memory does not answer in time the rep is told at once, and the rest finishes when memory is
back (checked every 30 s); a call logged meanwhile is never taken. A note that was on its way
to memory during the erasure is deleted on arrival (bot.infra.outbox).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.prospect_lookup import find_prospect
from bot.forget import view
from bot.infra.access import is_admin
from bot.services import Services
from memory.index import Erasure
from memory.index_forgets import Scope
from memory.store import MemoryRejected, MemoryUnavailable

logger = logging.getLogger(__name__)
# Who erased, when and how much: an opaque id and counts, never a name or note text.
audit = logging.getLogger("salesmemory.audit")

RESUME_EVERY_SECONDS = 30.0
# How long the rep's confirmation waits for memory's part before saying it comes later.
ANSWER_WITHIN_SECONDS = 10.0
# Memory's part of one erasure in the background: bounded too, so a hung server never holds
# the resuming loop (the next round tries again).
BACKGROUND_BOUND_SECONDS = 120.0
# A finisher holds its erasure a little longer than its bound, so no other one starts.
LEASE_MARGIN_SECONDS = 30.0
# How often a call memory is still filing is looked at again.
FILING_POLL_SECONDS = 1.0
# Memory refused a deletion (a 4xx): retrying at once will not help.
REFUSED_RETRY = timedelta(minutes=10)


@dataclass(frozen=True)
class ForgetPlan:
    """What an erasure would take, for the confirmation (counted from the local index)."""

    slug: str
    name: str
    scope: Scope
    calls: int  # calls that would go
    waiting: int  # of which have not reached memory yet
    teammates: int = 0  # calls by others that stay (scope "mine")
    admin: bool = False  # may take other reps' calls


async def plan_forget(
    services: Services, client: AsyncWebClient, workspace_id: str, rep_id: str, typed: str
) -> ForgetPlan | str:
    """What this rep may erase of the prospect they named, or why nothing (a message)."""
    seen_by = services.seen_by(rep_id)
    match = await find_prospect(services.index, workspace_id, typed, seen_by)
    admin: bool | None = None
    if not match.known and seen_by is not None:
        # Under NOTES_VISIBILITY=own an admin still finds every prospect (an erasure a
        # customer asked for must be possible).
        admin = await is_admin(client, rep_id)
        if admin:
            match = await find_prospect(services.index, workspace_id, typed)
    if not match.known:
        return view.unknown_prospect(match.suggestions)
    counts = await services.index.call_counts(workspace_id, match.slug, rep_id)
    if counts.total == 0:
        return view.unknown_prospect([])
    if counts.mine == counts.total:
        return ForgetPlan(match.slug, match.name, "prospect", counts.total, counts.waiting_total)
    if admin is None:
        admin = await is_admin(client, rep_id)
    if admin:
        return ForgetPlan(
            match.slug, match.name, "prospect", counts.total, counts.waiting_total, admin=True
        )
    if counts.mine == 0:
        return view.not_yours(match.name)
    return ForgetPlan(
        match.slug,
        match.name,
        "mine",
        counts.mine,
        counts.waiting_mine,
        teammates=counts.total - counts.mine,
    )


async def confirm_forget(
    services: Services,
    client: AsyncWebClient,
    workspace_id: str,
    rep_id: str,
    name: str,
    scope: str,
) -> str | None:
    """The rep confirmed erasing `scope` of `name`: check again, as of now, and erase.

    Returns what to tell the rep at once (a refusal, or that memory's part comes later);
    None when it all went and the receipt is on its way."""
    plan = await plan_forget(services, client, workspace_id, rep_id, name)
    if isinstance(plan, str):
        return plan
    if plan.scope != scope:
        return view.changed_meanwhile(plan.name)
    request = await forget(services, workspace_id, plan, rep_id)
    done = await finish(services, client, request, ANSWER_WITHIN_SECONDS)
    return None if done else view.memory_later(plan.name)


async def forget(services: Services, workspace_id: str, plan: ForgetPlan, by: str) -> Erasure:
    """Record what goes (the calls as they are now) and erase the local rows at once."""
    request = await services.index.start_erasure(
        workspace_id, plan.slug, plan.name, plan.scope, by, services.clock(), plan.admin
    )
    await services.index.scrub_files()
    audit.info(
        "erasure requested id=%s workspace=%s by=%s scope=%s calls=%d waiting=%d at=%s",
        request.request_id,
        workspace_id,
        by,
        request.scope,
        request.notes,
        request.waiting,
        request.requested_at.isoformat(),
    )
    return request


async def finish(
    services: Services,
    client: AsyncWebClient,
    request: Erasure,
    bound: float = BACKGROUND_BOUND_SECONDS,
) -> bool:
    """Memory's part of an erasure (within `bound` seconds), then the bot's own messages
    about those calls; the receipt goes out once. False when it is not done yet (memory did
    not answer, refused, or is still filing one of the calls): the resuming loop goes on."""
    now = services.clock()
    lease = now + timedelta(seconds=bound + LEASE_MARGIN_SECONDS)
    if not await services.index.claim_erasure(request.request_id, now, lease):
        return False  # another finisher has it, or memory refused it and it waits
    try:
        documents = await asyncio.wait_for(_erase_in_memory(services, request), bound)
    except MemoryRejected as refused:
        await _refused(services, client, request, refused)
        return False
    except (MemoryUnavailable, TimeoutError):
        logger.warning("Memory did not answer: erasure %s resumes later", request.request_id)
        await services.index.release_erasure(request.request_id, None)
        return False
    deleted = await _delete_confirmations(services, client, request)
    done_at = services.clock()
    finished = await services.index.finish_erasure(request, documents, done_at)
    if finished is None:
        # Memory took one of the calls into a filing meanwhile: the next round waits for it.
        await services.index.release_erasure(request.request_id, None)
        return False
    if finished:
        audit.info(
            "erasure done id=%s workspace=%s by=%s documents=%d messages=%d at=%s",
            request.request_id,
            request.workspace_id,
            request.requested_by,
            documents,
            deleted,
            done_at.isoformat(),
        )
        await _tell(client, request, view.receipt(request, deleted, done_at))
    try:
        await services.index.scrub_files()
    except Exception:
        logger.exception("Could not scrub the database files after erasure %s", request.request_id)
    return True


async def _erase_in_memory(services: Services, request: Erasure) -> int:
    await _wait_for_filings(services, request)
    if request.legacy_slug is not None:
        return await services.memory.forget_prospect(request.workspace_id, request.legacy_slug)
    documents = await services.memory.forget_calls(request.workspace_id, request.call_ids)
    operations = await services.index.erased_operations(request.request_id)
    await services.memory.forget_operations(request.workspace_id, operations)
    return documents


async def _wait_for_filings(services: Services, request: Erasure) -> None:
    """Until memory has ended filing each erased call it was filing (with an LLM): a document
    deleted before its filing ends would be written afterwards."""
    while filings := await services.index.filings(request.request_id):
        going = 0
        for call_id, operation in filings:
            status, _ = await services.memory.operation(request.workspace_id, operation)
            if status in ("pending", "processing"):
                going += 1
            else:
                await services.index.filing_ended(call_id)
        if going:
            await asyncio.sleep(FILING_POLL_SECONDS)


async def _refused(
    services: Services, client: AsyncWebClient, request: Erasure, refused: MemoryRejected
) -> None:
    """Memory refused to delete (a 4xx): tried again every REFUSED_RETRY; the rep hears of
    it once, and the log says so at every refusal, so an admin can look."""
    retry_at = services.clock() + REFUSED_RETRY
    refusals = await services.index.release_erasure(request.request_id, retry_at, refused=True)
    logger.error(
        "Memory refused erasure %s (%s); trying again at %s",
        request.request_id,
        refused,
        retry_at.isoformat(),
    )
    if refusals == 1:
        await _tell(client, request, view.memory_refused(request))


async def _tell(client: AsyncWebClient, request: Erasure, text: str) -> None:
    try:
        await client.chat_postMessage(channel=request.requested_by, text=text)
    except Exception:
        # Slack refused or is unreachable: the erasure itself is done, and its log says so.
        logger.exception("Could not tell the rep about erasure %s", request.request_id)


async def _delete_confirmations(
    services: Services, client: AsyncWebClient, request: Erasure
) -> int:
    """Delete the DMs the bot sent about the erased calls; returns how many went (one Slack
    will not delete, or already gone, is left as it is)."""
    deleted = 0
    for message in await services.index.confirmations_of(request.call_ids):
        try:
            await client.chat_delete(channel=message.channel, ts=message.ts)
            deleted += 1
        except SlackApiError as error:
            logger.info(
                "Slack kept a confirmation of erasure %s (%s)",
                request.request_id,
                error.response.get("error"),
            )
    return deleted


async def resume_forgets(services: Services, client: AsyncWebClient) -> int:
    """Finish the erasures memory was away for, and empty the write-ahead log a reader kept
    an earlier scrub from; returns how many erasures finished now."""
    finished = 0
    for request in await services.index.unfinished_erasures():
        finished += await finish(services, client, request)
    if services.index.scrub_due:
        await services.index.scrub_files()
    return finished


async def resume_in_background(
    services: Services, client: AsyncWebClient, stop: asyncio.Event
) -> None:
    """Every half minute, finish what an outage left unfinished, until `stop`."""
    while not stop.is_set():
        try:
            await resume_forgets(services, client)
        except Exception:
            logger.exception("Resuming erasures failed; trying again shortly")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RESUME_EVERY_SECONDS)
