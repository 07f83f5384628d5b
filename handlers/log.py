"""`/log`, the "Log a call" button, the prospect typeahead and the modal's submission."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import ids
from bot.blocks.limits import escape_mrkdwn
from bot.blocks.log_modal import (
    build_log_modal,
    build_prospect_options,
    modal_errors,
    read_log_modal,
)
from bot.blocks.messages import build_log_confirmation
from bot.calls import call_from_form, log_call
from bot.digest_settings import enroll_rep
from bot.log_form import validate_log_form
from bot.prospect_lookup import find_prospect
from bot.services import Services
from handlers.slack_io import rep_timezone, tell_rep
from memory.prospects import MAX_PROSPECT_NAME, clean_prospect_name, prospect_slug

logger = logging.getLogger(__name__)


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
        match = find_prospect(services.index, workspace_id, typed)
        name = match.name if match.known else clean_prospect_name(typed)
        prospect = name if len(name) <= MAX_PROSPECT_NAME else None
    tz = await rep_timezone(client, user_id)
    view = build_log_modal(services.today(tz), prospect, json.dumps({"tz": tz}))
    try:
        await client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError:
        logger.exception("views.open failed for the log modal")
        return False
    return True


def register(app: AsyncApp, services: Services) -> None:
    @app.command("/log")
    async def handle_log_command(
        ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        typed = command.get("text", "")
        opened = await open_log_modal(
            services, client, command["trigger_id"], command["user_id"], command["team_id"], typed
        )
        if not opened:
            await respond(
                "I couldn't open the call form just now. Please run `/log` again."
                + (f" (You typed: {typed.strip()})" if typed.strip() else "")
            )
        elif len(clean_prospect_name(typed)) > MAX_PROSPECT_NAME:
            await respond(
                f"That name is longer than {MAX_PROSPECT_NAME} characters, so I left the "
                f"prospect empty in the form. You typed: {typed.strip()}"
            )

    @app.action(ids.OPEN_LOG_ACTION)
    async def handle_open_log_button(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        user_id = body["user"]["id"]
        opened = await open_log_modal(
            services,
            client,
            body["trigger_id"],
            user_id,
            body["team"]["id"],
            action.get("value", ""),
        )
        if not opened:
            await tell_rep(client, user_id, "I couldn't open the call form. Please try `/log`.")

    @app.options(ids.PROSPECT_ACTION)
    async def handle_prospect_typeahead(ack: AsyncAck, body: dict[str, Any]) -> None:
        typed = body.get("value", "")
        known = services.index.search_prospects(body["team"]["id"], typed)
        await ack(options=build_prospect_options(typed, known))

    @app.view(ids.LOG_MODAL_CALLBACK)
    async def handle_log_submission(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        metadata = json.loads(view.get("private_metadata") or "{}")
        form, errors = validate_log_form(
            read_log_modal(view["state"]["values"]), services.today(metadata.get("tz"))
        )
        if form is None:
            # The modal stays open with everything the rep typed, and says what to fix.
            await ack(response_action="errors", errors=modal_errors(errors))
            return
        await ack()
        user_id = body["user"]["id"]
        workspace_id = body["team"]["id"]
        try:
            call = call_from_form(services, form, f"call-{view['id']}", workspace_id, user_id)
            result = await log_call(services, call)
        except Exception:
            logger.exception("Logging a call failed unexpectedly")
            await tell_rep(
                client,
                user_id,
                f"Something went wrong saving your call with {form.prospect}. Here is what you "
                f"wrote, so nothing is lost — please log it again:\n\n{escape_mrkdwn(form.note)}",
            )
            return
        try:
            enroll_rep(services.index, workspace_id, user_id, metadata.get("tz"))
        except Exception:
            logger.exception("Could not schedule %s's weekly digest", user_id)
        if result.duplicate:
            return  # the same modal submitted twice: stored once, confirmed once
        text, blocks = build_log_confirmation(result)
        try:
            await client.chat_postMessage(channel=user_id, text=text, blocks=blocks)
        except SlackApiError:
            logger.exception("Could not confirm logged call %s", call.call_id)
