"""What the call log's listeners ask of the index and the outbox: the prospect a form opens
with, the names the typeahead and a message shortcut offer, the write-ahead of a submission
inside Slack's 3 s, and what follows a saved call (digest sign-up, App Home, confirmation)."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.digest.settings import enroll_rep
from bot.domain.prospect_lookup import find_prospect
from bot.home.publish import refresh_home_later
from bot.log.calls import Confirm, confirm_when_delivered
from bot.log.view import build_log_confirmation
from bot.services import Services
from memory.index import PostedMessage
from memory.prospects import MAX_PROSPECT_NAME, clean_prospect_name, prospect_slug
from memory.records import CallLog

logger = logging.getLogger(__name__)

# The submission is written to the database before the modal is acked, inside Slack's 3 s:
# by this long after the request arrived (what the request guards took counts too), with a
# last margin for a database that hangs outright.
WRITE_AHEAD_SECONDS = 1.8
WRITE_AHEAD_MARGIN = 0.7

# How long the names a form offers may take: the typeahead answers within Slack's 3 s, and a
# message shortcut still has views.open to call within them.
TYPEAHEAD_SECONDS = 2.0
SHORTCUT_NAMES_SECONDS = 1.0


async def prospect_to_prefill(
    services: Services, workspace_id: str, rep_id: str, typed: str
) -> str | None:
    """The prospect the form opens with: the known name the rep meant, else what they typed;
    None for nothing typed, or a name past the limit (the command says so), never looked up."""
    if not prospect_slug(typed) or len(clean_prospect_name(typed)) > MAX_PROSPECT_NAME:
        return None
    match = await find_prospect(services.index, workspace_id, typed, services.seen_by(rep_id))
    return match.name if match.known else clean_prospect_name(typed)


async def prospects_like(
    services: Services, workspace_id: str, rep_id: str, typed: str
) -> list[str]:
    """Known names for the typeahead; none when the index is slow or down (the rep can
    still type a new name, and known names come back when the index does)."""
    try:
        return await asyncio.wait_for(
            services.index.search_prospects(workspace_id, typed, rep_id=services.seen_by(rep_id)),
            TYPEAHEAD_SECONDS,
        )
    except Exception:
        logger.exception("Prospect typeahead failed; offering only the typed name")
        return []


async def names_for_message(services: Services, workspace_id: str, rep_id: str) -> list[str]:
    """Every name a rep may see, to find one in a message; none when the index is slow or
    down (then nothing is pre-selected)."""
    try:
        return await asyncio.wait_for(
            services.index.prospect_names(workspace_id, services.seen_by(rep_id)),
            SHORTCUT_NAMES_SECONDS,
        )
    except Exception:
        logger.exception("Could not read the known prospects for a message shortcut")
        return []


async def write_ahead(services: Services, call: CallLog, arrived: float, *, replace: bool) -> bool:
    """The call made durable before the modal closes; False when it was submitted before
    (with `replace` False: an entry, one per follow-up draft, is never replaced by a second
    form). The database itself gives up at the deadline, so a failure here means the save did
    not happen; the outer bound only guards against a database that hangs outright. Raises
    `CallErased` for a retried or replayed submission of a call since erased."""
    deadline = arrived + WRITE_AHEAD_SECONDS
    return await asyncio.wait_for(
        services.outbox.submit(call, deadline, replace=replace),
        max(deadline - time.monotonic(), 0.0) + WRITE_AHEAD_MARGIN,
    )


async def after_saved(
    services: Services, client: AsyncWebClient, call: CallLog, tz: str | None
) -> None:
    """What follows a call written ahead: the rep's weekly digest scheduled at their first
    call, their Home refreshed, and their confirmation. The call is saved already, so nothing
    here tells the rep something failed."""
    workspace_id, rep_id = call.workspace_id, call.rep_id
    try:
        zone = await services.timezones.zone(client, workspace_id, rep_id)
        await enroll_rep(services.index, workspace_id, rep_id, zone or tz)
    except Exception:
        logger.exception("Could not schedule %s's weekly digest", rep_id)
    refresh_home_later(services, client, workspace_id, rep_id)
    try:
        await confirm_when_delivered(services, call, confirmer(client))
    except Exception:
        # The worker confirms it when memory has it.
        logger.exception("Could not confirm call %s yet; the worker will", call.call_id)


@dataclass(frozen=True)
class DirectMessages:
    """Confirmations as DMs to the rep, naming the prospect and outcome."""

    client: AsyncWebClient

    async def post(self, call: CallLog, kind: str) -> PostedMessage | None:
        text, blocks = build_log_confirmation(call, kind)
        try:
            posted = await self.client.chat_postMessage(
                channel=call.rep_id, text=text, blocks=blocks
            )
        except SlackApiError:
            logger.exception("Could not confirm logged call %s", call.call_id)
            return None
        channel, ts = posted.get("channel"), posted.get("ts")
        return PostedMessage(str(channel), str(ts)) if channel and ts else None

    async def withdraw(self, message: PostedMessage) -> None:
        try:
            await self.client.chat_delete(channel=message.channel, ts=message.ts)
        except SlackApiError as error:
            logger.warning(
                "Slack kept the confirmation of an erased call (%s)", error.response.get("error")
            )


def confirmer(client: AsyncWebClient) -> Confirm:
    """How the rep hears about a logged call, for the app and its delivery worker alike."""
    return DirectMessages(client)
