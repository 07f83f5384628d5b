"""`/log`, the "Log a call" button, the prospect typeahead and the modal's submission."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import ids
from bot.blocks.limits import quote_input
from bot.blocks.log_modal import (
    build_log_modal,
    build_prospect_options,
    modal_errors,
    read_log_modal,
)
from bot.blocks.messages import build_log_confirmation
from bot.calls import Confirm, call_from_form, confirm_when_delivered
from bot.digest_settings import enroll_rep
from bot.log_form import validate_log_form
from bot.prospect_lookup import find_prospect
from bot.services import Services
from handlers.slack_io import explained, tell_rep, user_of, workspace_of
from memory.prospects import MAX_PROSPECT_NAME, clean_prospect_name, prospect_slug
from memory.records import CallLog

logger = logging.getLogger(__name__)

# The submission is written to the database before the modal is acked, inside Slack's 3 s.
WRITE_AHEAD_SECONDS = 1.8
NOT_SAVED = (
    "I couldn't save this just now (my database is busy). Everything you typed is still "
    "here: press Save again in a moment."
)


async def open_log_modal(
    services: Services,
    client: AsyncWebClient,
    trigger_id: str,
    user_id: str,
    workspace_id: str,
    typed: str,
) -> bool:
    """Open the modal, pre-filled with the prospect the rep named; False if Slack refused."""
    prospect: str | None = None
    if prospect_slug(typed):
        match = await find_prospect(services.index, workspace_id, typed)
        name = match.name if match.known else clean_prospect_name(typed)
        prospect = name if len(name) <= MAX_PROSPECT_NAME else None
    # Nothing is asked of Slack between the ack and views.open (the trigger expires in 3 s):
    # the rep's zone comes from what is known already, or is learnt once the form is open.
    known, tz = await services.timezones.known(workspace_id, user_id)
    today = services.today(tz)
    try:
        opened = await client.views_open(
            trigger_id=trigger_id, view=build_log_modal(today, prospect, json.dumps({"tz": tz}))
        )
    except SlackApiError:
        logger.exception("views.open failed for the log modal")
        return False
    if not known:
        tz = await services.timezones.zone(client, workspace_id, user_id)
        await _set_zone(client, opened.get("view") or {}, services.today(tz), prospect, tz)
    return True


async def _set_zone(
    client: AsyncWebClient, view: dict[str, Any], today: date, prospect: str | None, tz: str | None
) -> None:
    """The open form brought to the rep's own zone (its date and what it validates against);
    Slack keeps what the rep has typed meanwhile, the blocks being the same."""
    if tz is None or not view.get("id"):
        return
    try:
        await client.views_update(
            view_id=view["id"],
            hash=view.get("hash"),
            view=build_log_modal(today, prospect, json.dumps({"tz": tz})),
        )
    except SlackApiError:
        # Changed by the rep meanwhile (hash_conflict) or closed: the UTC date stays.
        logger.info("Could not bring the log form to %s", tz, exc_info=True)


def confirmer(client: AsyncWebClient) -> Confirm:
    """How the rep hears about a logged call: a DM naming the prospect and outcome."""

    async def confirm(call: CallLog, kind: str) -> None:
        text, blocks = build_log_confirmation(call, kind)
        try:
            await client.chat_postMessage(channel=call.rep_id, text=text, blocks=blocks)
        except SlackApiError:
            logger.exception("Could not confirm logged call %s", call.call_id)

    return confirm


def register(app: AsyncApp, services: Services) -> None:
    @app.command("/log")
    @explained
    async def handle_log_command(
        ack: AsyncAck,
        command: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        typed = command.get("text", "")
        opened = await open_log_modal(
            services,
            client,
            command.get("trigger_id", ""),
            user_of(context),
            workspace_of(context),
            typed,
        )
        if not opened:
            await respond(
                "I couldn't open the call form just now. Please run `/log` again."
                + (f" (You typed: {quote_input(typed)})" if typed.strip() else "")
            )
        elif len(clean_prospect_name(typed)) > MAX_PROSPECT_NAME:
            await respond(
                f"That name is longer than {MAX_PROSPECT_NAME} characters, so I left the "
                f"prospect empty in the form. You typed: {quote_input(typed, 400)}"
            )

    @app.action(ids.OPEN_LOG_ACTION)
    @explained
    async def handle_open_log_button(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        user_id = user_of(context)
        opened = await open_log_modal(
            services,
            client,
            str(body.get("trigger_id", "")),
            user_id,
            workspace_of(context),
            str(action.get("value") or ""),
        )
        if not opened:
            await tell_rep(client, user_id, "I couldn't open the call form. Please try `/log`.")

    @app.options(ids.PROSPECT_ACTION)
    async def handle_prospect_typeahead(
        ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        typed = str(body.get("value") or "")
        try:
            known = await asyncio.wait_for(
                services.index.search_prospects(workspace_of(context), typed), 2.0
            )
        except Exception:
            # The rep can still type a new name; known names come back when the index does.
            logger.exception("Prospect typeahead failed; offering only the typed name")
            known = []
        await ack(options=build_prospect_options(typed, known))

    @app.view(ids.LOG_MODAL_CALLBACK)
    @explained
    async def handle_log_submission(
        ack: AsyncAck,
        view: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        try:
            metadata = json.loads(view.get("private_metadata") or "{}")
            tz = metadata.get("tz") if isinstance(metadata, dict) else None
        except json.JSONDecodeError:
            tz = None
        tz = tz if isinstance(tz, str) else None
        form, errors = validate_log_form(
            read_log_modal((view.get("state") or {}).get("values") or {}), services.today(tz)
        )
        if form is None:
            # The modal stays open with everything the rep typed, and says what to fix.
            await ack(response_action="errors", errors=modal_errors(errors))
            return
        user_id, workspace_id = user_of(context), workspace_of(context)
        call = call_from_form(services, form, f"call-{view['id']}", workspace_id, user_id)
        try:
            # Write-ahead: the note is durable before the modal closes. The database itself
            # gives up at the deadline, so "press Save again" is only said of a save that did
            # not happen; the outer bound only guards against a database that hangs outright.
            deadline = time.monotonic() + WRITE_AHEAD_SECONDS
            await asyncio.wait_for(
                services.outbox.submit(call, deadline), WRITE_AHEAD_SECONDS + 0.7
            )
        except Exception:
            logger.exception("Could not write call %s ahead; the modal stays open", call.call_id)
            await ack(response_action="errors", errors=modal_errors({"note": NOT_SAVED}))
            return
        await ack()
        try:
            zone = await services.timezones.zone(client, workspace_id, user_id)
            await enroll_rep(services.index, workspace_id, user_id, zone or tz)
        except Exception:
            logger.exception("Could not schedule %s's weekly digest", user_id)
        try:
            await confirm_when_delivered(services, call, confirmer(client))
        except Exception:
            # The call is saved (written ahead): never tell the rep something failed. The
            # worker confirms it when memory has it.
            logger.exception("Could not confirm call %s yet; the worker will", call.call_id)
