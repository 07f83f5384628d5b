"""`/log`, the "Log a call" button, the prospect typeahead and the modal's submission."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from dataclasses import dataclass
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
from bot.calls import Confirm, PostedMessage, call_from_form, confirm_when_delivered
from bot.digest.settings import enroll_rep
from bot.domain.prospect_lookup import find_prospect
from bot.home.publish import refresh_home_later
from bot.infra.request_guards import arrived_at
from bot.log_form import validate_log_form
from bot.message_note import NothingToLog, note_from_message
from bot.services import Services
from handlers.slack_io import explained, tell_rep, user_of, workspace_of
from memory.index import CallErased
from memory.prospects import (
    MAX_PROSPECT_NAME,
    NAME_TOO_LONG,
    clean_prospect_name,
    prospect_slug,
)
from memory.records import CallLog

logger = logging.getLogger(__name__)

# The submission is written to the database before the modal is acked, inside Slack's 3 s:
# by this long after the request arrived (what the request guards took counts too), with a
# last margin for a database that hangs outright.
WRITE_AHEAD_SECONDS = 1.8
WRITE_AHEAD_MARGIN = 0.7
NOT_SAVED = (
    "I couldn't save this just now (my database is busy). Everything you typed is still "
    "here: press Save again in a moment."
)

ALREADY_LOGGED = (
    "This follow-up is already logged as sent (from another form), so nothing here was "
    "saved. To keep these changes, copy them and log them with /log."
)

ERASED = (
    "This call was logged from this form and then forgotten (/forget), so it was not saved "
    "again. To log it anew, copy what you typed and use /log."
)


@dataclass(frozen=True)
class Prefill:
    """What the form opens with: a Slack message's text ("Log as call note") and where it
    came from, or a follow-up email ("Log as sent") and the entry it becomes."""

    note: str
    transcript: str
    notice: str
    channel_id: str = ""
    message_ts: str = ""
    outcome: str = ""
    entry_id: str = ""  # the entry's id (one per draft), instead of one per form


# An entry id a form may carry: a follow-up draft's (bot.followup.draft.sent_entry_id).
_ENTRY_ID = re.compile(r"followup-[0-9a-f]{32}")


async def open_log_modal(
    services: Services,
    client: AsyncWebClient,
    trigger_id: str,
    user_id: str,
    workspace_id: str,
    typed: str,
    prefill: Prefill | None = None,
) -> bool:
    """Open the modal, pre-filled with the prospect the rep named (and a message's text);
    False if Slack refused."""
    prospect: str | None = None
    # A name past the limit is left out of the form (the command says so), never looked up.
    if prospect_slug(typed) and len(clean_prospect_name(typed)) <= MAX_PROSPECT_NAME:
        match = await find_prospect(services.index, workspace_id, typed, services.seen_by(user_id))
        prospect = match.name if match.known else clean_prospect_name(typed)
    # Nothing is asked of Slack between the ack and views.open (the trigger expires in 3 s):
    # the rep's zone comes from what is known already, or is learnt once the form is open,
    # and so is a message's link.
    known, tz = await services.timezones.known(workspace_id, user_id)
    metadata: dict[str, Any] = {"tz": tz}
    if prefill is not None and prefill.entry_id:
        metadata["entry"] = prefill.entry_id
    form = _Form(prospect, metadata, prefill, services.notes_visibility == "workspace")
    try:
        opened = await client.views_open(trigger_id=trigger_id, view=form.view(services.today(tz)))
    except SlackApiError:
        logger.exception("views.open failed for the log modal")
        return False
    changed = False
    if not known:
        tz = await services.timezones.zone(client, workspace_id, user_id)
        form.metadata["tz"] = tz
        changed = tz is not None
    if prefill is not None and prefill.channel_id:
        link = await _permalink(client, prefill.channel_id, prefill.message_ts)
        form.metadata["source"] = link
        changed = changed or link is not None
    if changed:
        await _update(client, opened.get("view") or {}, form.view(services.today(tz)))
    return True


@dataclass
class _Form:
    prospect: str | None
    metadata: dict[str, Any]
    prefill: Prefill | None
    team_memory: bool

    def view(self, today: date) -> dict[str, Any]:
        fill = self.prefill
        return build_log_modal(
            today,
            self.prospect,
            json.dumps(self.metadata),
            note=fill.note if fill else "",
            transcript=fill.transcript if fill else "",
            notice=fill.notice if fill else "",
            team_memory=self.team_memory,
            outcome=fill.outcome if fill else "",
        )


async def _permalink(client: AsyncWebClient, channel_id: str, message_ts: str) -> str | None:
    """The message's permalink, kept with the note; None when Slack will not say."""
    try:
        found = await client.chat_getPermalink(channel=channel_id, message_ts=message_ts)
    except SlackApiError:
        logger.info("No permalink for the message being logged", exc_info=True)
        return None
    link = found.get("permalink")
    return link if isinstance(link, str) and link.startswith("https://") else None


async def _update(client: AsyncWebClient, view: dict[str, Any], updated: dict[str, Any]) -> None:
    """The open form brought up to date (the rep's zone: its date and what it validates
    against; a message's link); Slack keeps what the rep has typed meanwhile, the blocks being
    the same."""
    if not view.get("id"):
        return
    try:
        await client.views_update(view_id=view["id"], hash=view.get("hash"), view=updated)
    except SlackApiError:
        # Changed by the rep meanwhile (hash_conflict) or closed: the UTC date stays.
        logger.info("Could not bring the log form up to date", exc_info=True)


def _form_metadata(view: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(time zone, message link, entry id) the open form carries."""
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        metadata = None
    if not isinstance(metadata, dict):
        return None, None, None
    tz, source, entry = metadata.get("tz"), metadata.get("source"), metadata.get("entry")
    return (
        tz if isinstance(tz, str) else None,
        source if isinstance(source, str) and source.startswith("https://") else None,
        entry if isinstance(entry, str) and _ENTRY_ID.fullmatch(entry) else None,
    )


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
                f"{NAME_TOO_LONG} I left the prospect empty in the form. "
                f"You typed: {quote_input(typed, 400)}"
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
                services.index.search_prospects(
                    workspace_of(context), typed, rep_id=services.seen_by(user_of(context))
                ),
                2.0,
            )
        except Exception:
            # The rep can still type a new name; known names come back when the index does.
            logger.exception("Prospect typeahead failed; offering only the typed name")
            known = []
        await ack(options=build_prospect_options(typed, known))

    @app.shortcut(ids.LOG_FROM_MESSAGE_SHORTCUT)
    @explained
    async def handle_log_from_message(
        ack: AsyncAck,
        shortcut: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        workspace_id, user_id = workspace_of(context), user_of(context)
        message = shortcut.get("message") or {}
        try:
            # Within Slack's 3 s for views.open: without the names, nothing is pre-selected.
            known = await asyncio.wait_for(
                services.index.prospect_names(workspace_id, services.seen_by(user_id)), 1.0
            )
        except Exception:
            logger.exception("Could not read the known prospects for a message shortcut")
            known = []
        try:
            made = note_from_message(message, known)
        except NothingToLog as nothing:
            await respond(text=nothing.reason, response_type="ephemeral", replace_original=False)
            return
        notice = ""
        if made.left_out:
            notice = (
                f"The message is longer than the note and transcript fields: the last "
                f"{made.left_out:,} characters are not in them. They stay in the Slack message, "
                "whose link is kept with the note when Slack gives one."
            )
        prefill = Prefill(
            note=made.note,
            transcript=made.transcript,
            notice=notice,
            channel_id=str((shortcut.get("channel") or {}).get("id") or ""),
            message_ts=str(shortcut.get("message_ts") or message.get("ts") or ""),
        )
        opened = await open_log_modal(
            services,
            client,
            str(shortcut.get("trigger_id") or ""),
            user_id,
            workspace_id,
            made.prospect or "",
            prefill,
        )
        if not opened:
            await respond(
                text="I couldn't open the call form just now. Please try the shortcut again.",
                response_type="ephemeral",
                replace_original=False,
            )

    @app.view(ids.LOG_MODAL_CALLBACK)
    @explained
    async def handle_log_submission(
        ack: AsyncAck,
        view: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        tz, source, entry = _form_metadata(view)
        form, errors = validate_log_form(
            read_log_modal((view.get("state") or {}).get("values") or {}), services.today(tz)
        )
        if form is None:
            # The modal stays open with everything the rep typed, and says what to fix.
            await ack(response_action="errors", errors=modal_errors(errors))
            return
        user_id, workspace_id = user_of(context), workspace_of(context)
        call = call_from_form(
            services,
            form,
            entry or f"call-{view['id']}",
            workspace_id,
            user_id,
            source[:500] if source else None,
        )
        try:
            # Write-ahead: the note is durable before the modal closes. The database itself
            # gives up at the deadline, so "press Save again" is only said of a save that did
            # not happen; the outer bound only guards against a database that hangs outright.
            deadline = arrived_at(context) + WRITE_AHEAD_SECONDS
            # An entry (one per follow-up draft) is never replaced by a second form.
            new = await asyncio.wait_for(
                services.outbox.submit(call, deadline, replace=entry is None),
                max(deadline - time.monotonic(), 0.0) + WRITE_AHEAD_MARGIN,
            )
        except CallErased:
            # A retried or replayed submission of a call since erased: it stays erased.
            logger.info("Call %s was erased: its form's submission is not saved", call.call_id)
            await ack(response_action="errors", errors=modal_errors({"note": ERASED}))
            return
        except Exception:
            logger.exception("Could not write call %s ahead; the modal stays open", call.call_id)
            await ack(response_action="errors", errors=modal_errors({"note": NOT_SAVED}))
            return
        if entry is not None and not new:
            # Another form for the same draft was saved first: this one stays open with what
            # the rep typed, and says so.
            await ack(response_action="errors", errors=modal_errors({"note": ALREADY_LOGGED}))
            return
        await ack()
        try:
            zone = await services.timezones.zone(client, workspace_id, user_id)
            await enroll_rep(services.index, workspace_id, user_id, zone or tz)
        except Exception:
            logger.exception("Could not schedule %s's weekly digest", user_id)
        refresh_home_later(services, client, workspace_id, user_id)
        try:
            await confirm_when_delivered(services, call, confirmer(client))
        except Exception:
            # The call is saved (written ahead): never tell the rep something failed. The
            # worker confirms it when memory has it.
            logger.exception("Could not confirm call %s yet; the worker will", call.call_id)
