"""`/log`, the "Log a call" button and message shortcut, the prospect typeahead and the
modal's submission."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.limits import quote_input
from bot.infra.request_guards import arrived_at
from bot.log.calls import call_from_form
from bot.log.form import validate_log_form
from bot.log.intake import (
    after_saved,
    names_for_message,
    prospect_to_prefill,
    prospects_like,
    write_ahead,
)
from bot.log.message_note import NothingToLog, note_from_message
from bot.log.view import (
    build_log_modal,
    build_prospect_options,
    modal_errors,
    read_log_modal,
)
from bot.services import Services
from handlers.slack_io import explained, services_of, tell_rep, user_of, workspace_of
from memory.index import CallErased
from memory.prospects import MAX_PROSPECT_NAME, NAME_TOO_LONG, clean_prospect_name

logger = logging.getLogger(__name__)

# What the form says, staying open with everything the rep typed, when a submission was not
# saved (bot.log.intake.write_ahead): the database was busy, the draft's entry is logged
# already, or the call was forgotten since.
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
    prospect = await prospect_to_prefill(services, workspace_id, user_id, typed)
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
        services_of(context),
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
        services_of(context),
        client,
        str(body.get("trigger_id", "")),
        user_id,
        workspace_of(context),
        str(action.get("value") or ""),
    )
    if not opened:
        await tell_rep(client, user_id, "I couldn't open the call form. Please try `/log`.")


async def handle_prospect_typeahead(
    ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
) -> None:
    typed = str(body.get("value") or "")
    known = await prospects_like(
        services_of(context), workspace_of(context), user_of(context), typed
    )
    await ack(options=build_prospect_options(typed, known))


def _message_prefill(
    shortcut: dict[str, Any], note: str, transcript: str, left_out: int
) -> Prefill:
    """The form's fill from a message ("Log as call note"), and where the message is."""
    message = shortcut.get("message") or {}
    notice = ""
    if left_out:
        notice = (
            f"The message is longer than the note and transcript fields: the last "
            f"{left_out:,} characters are not in them. They stay in the Slack message, "
            "whose link is kept with the note when Slack gives one."
        )
    return Prefill(
        note=note,
        transcript=transcript,
        notice=notice,
        channel_id=str((shortcut.get("channel") or {}).get("id") or ""),
        message_ts=str(shortcut.get("message_ts") or message.get("ts") or ""),
    )


@explained
async def handle_log_from_message(
    ack: AsyncAck,
    shortcut: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    await ack()
    services, workspace_id, user_id = services_of(context), workspace_of(context), user_of(context)
    known = await names_for_message(services, workspace_id, user_id)
    try:
        made = note_from_message(shortcut.get("message") or {}, known)
    except NothingToLog as nothing:
        await respond(text=nothing.reason, response_type="ephemeral", replace_original=False)
        return
    opened = await open_log_modal(
        services,
        client,
        str(shortcut.get("trigger_id") or ""),
        user_id,
        workspace_id,
        made.prospect or "",
        _message_prefill(shortcut, made.note, made.transcript, made.left_out),
    )
    if not opened:
        await respond(
            text="I couldn't open the call form just now. Please try the shortcut again.",
            response_type="ephemeral",
            replace_original=False,
        )


@explained
async def handle_log_submission(
    ack: AsyncAck,
    view: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
) -> None:
    services = services_of(context)
    tz, source, entry = _form_metadata(view)
    form, errors = validate_log_form(
        read_log_modal((view.get("state") or {}).get("values") or {}), services.today(tz)
    )
    if form is None:
        # The modal stays open with everything the rep typed, and says what to fix.
        await ack(response_action="errors", errors=modal_errors(errors))
        return
    call = call_from_form(
        services,
        form,
        entry or f"call-{view['id']}",
        workspace_of(context),
        user_of(context),
        source[:500] if source else None,
    )
    try:
        # Acked only once the note is durable (or is known not to be saved).
        new = await write_ahead(services, call, arrived_at(context), replace=entry is None)
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
    await after_saved(services, client, call, tz)
