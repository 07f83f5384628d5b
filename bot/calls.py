"""Logging a call: into Hindsight when it answers, kept locally until it does when it doesn't."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.log_form import LogForm
from bot.services import Services
from memory.records import CallLog
from memory.store import MemoryUnavailable

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LogResult:
    call: CallLog
    stored: bool  # False: Hindsight was down and the call is kept locally
    duplicate: bool  # this call id was logged before (the same modal submitted twice)


def call_from_form(
    services: Services, form: LogForm, call_id: str, workspace_id: str, rep_id: str
) -> CallLog:
    return CallLog(
        call_id=call_id,
        workspace_id=workspace_id,
        prospect=form.prospect,
        company=form.company,
        rep_id=rep_id,
        call_date=form.call_date,
        outcome=form.outcome,
        note=form.note,
        transcript=form.transcript,
        logged_at=services.clock(),
    )


async def log_call(services: Services, call: CallLog) -> LogResult:
    """Retain a call; if Hindsight fails, keep it (note and all) so nothing typed is lost."""
    duplicate = not services.index.record_call(call)
    try:
        await services.memory.retain_call(call)
    except MemoryUnavailable:
        logger.exception("Could not retain call %s; keeping it locally", call.call_id)
        services.index.keep_pending(call)
        return LogResult(call, stored=False, duplicate=duplicate)
    services.index.delivered(call.call_id)
    # Memory answers again: calls kept while it was down go now, not only at the next start.
    await deliver_pending(services)
    return LogResult(call, stored=True, duplicate=duplicate)


async def deliver_pending(services: Services) -> int:
    """Send calls kept while Hindsight was down; stops at the first failure. Returns how many."""
    delivered = 0
    for call in services.index.pending():
        try:
            await services.memory.retain_call(call)
        except MemoryUnavailable:
            logger.warning(
                "Hindsight still unreachable; %s call(s) wait", len(services.index.pending())
            )
            break
        services.index.delivered(call.call_id)
        delivered += 1
    if delivered:
        logger.info("Delivered %d kept call(s) to Hindsight", delivered)
    return delivered
