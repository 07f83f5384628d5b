"""Logging a call: write-ahead, delivery by the outbox worker, and telling the rep once."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from bot.log.form import LogForm
from bot.log.view import NOW_STORED, STORED, WAITING
from bot.services import Services
from memory.index import TOLD_STORED, TOLD_WAITING, UNCONFIRMED, PostedMessage
from memory.records import CallLog

logger = logging.getLogger(__name__)

# How long the rep's confirmation waits for memory before it says "saved, on its way".
CONFIRM_WAIT_SECONDS = 3.0


class Confirm(Protocol):
    """How the rep hears about a logged call (bot.log.intake.confirmer: a DM)."""

    async def post(self, call: CallLog, kind: str) -> PostedMessage | None:
        """Send a confirmation of one of the kinds above; the message posted (None when
        Slack refused it), so an erasure of the call can delete it too."""
        ...

    async def withdraw(self, message: PostedMessage) -> None:
        """Delete a confirmation posted before (one Slack will not delete stays)."""
        ...


def call_from_form(
    services: Services,
    form: LogForm,
    call_id: str,
    workspace_id: str,
    rep_id: str,
    source: str | None = None,
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
        source=source,
    )


async def confirm_when_delivered(
    services: Services, call: CallLog, confirm: Confirm, wait: float = CONFIRM_WAIT_SECONDS
) -> None:
    """After the ack: if memory has not taken the call within `wait`, say it is saved and on
    its way (once). The "in memory" confirmation comes from the worker when it delivers."""
    if await services.outbox.wait_delivered(call.call_id, wait):
        return
    if await services.index.claim_confirmation(call.call_id, TOLD_WAITING) is not None:
        await _confirm(services, confirm, call, WAITING)


def confirm_on_delivery(services: Services, confirm: Confirm) -> None:
    """Have the worker tell the rep once a call is in memory (exactly once per call)."""

    async def delivered(call: CallLog) -> None:
        before = await services.index.claim_confirmation(call.call_id, TOLD_STORED)
        if before == UNCONFIRMED:
            await _confirm(services, confirm, call, STORED)
        elif before == TOLD_WAITING:
            await _confirm(services, confirm, call, NOW_STORED)

    services.outbox.on_delivered = delivered


async def _confirm(services: Services, confirm: Confirm, call: CallLog, kind: str) -> None:
    erased = services.index.is_erased
    # A call an erasure took (it is recorded when the erasure is confirmed) is not confirmed.
    if await erased(call.call_id):
        return
    posted = await confirm.post(call, kind)
    if posted is None:
        return
    # An erasure confirmed while this was on its way may have deleted the call's confirmations
    # before this one was recorded: then it is deleted here. Checked before recording (none is
    # kept for a call already gone) and after (an erasure in between found nothing to delete).
    if not await erased(call.call_id):
        await services.index.record_confirmation(call.call_id, posted)
        if not await erased(call.call_id):
            return
    await confirm.withdraw(posted)


def start_delivery(services: Services, confirm: Confirm, stop: asyncio.Event) -> asyncio.Task[None]:
    """The delivery worker, running until `stop` (the bot and its tests start it this way)."""
    confirm_on_delivery(services, confirm)
    return asyncio.create_task(services.outbox.run(stop), name="outbox-delivery")


async def log_call(services: Services, call: CallLog) -> bool:
    """Submit a call and deliver what is due now, as the worker does; True when in memory.

    For the command line, benchmarks and tests that seed memory; the app goes through
    `Outbox.submit` and the running worker.
    """
    await services.outbox.submit(call)
    await services.outbox.drain_once()
    return all(c.call_id != call.call_id for c in await services.index.waiting())
