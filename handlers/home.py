"""The App Home tab: published when a rep opens it, and when they page it or change their
digest's settings there (bot.home.publish publishes it after a logged call or a digest too)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import ids
from bot.blocks.limits import quote_input
from bot.blocks.messages import STALE_BUTTON
from bot.digest.delivery import send_digest
from bot.digest.settings import change_digest_setting
from bot.home.publish import publish_home
from bot.home.quiet_alerts import turn_alerts
from bot.home.snooze import check_snooze_date, snoozable, snooze_prospect, snooze_until
from bot.home.view import DAY_OPTIONS, build_snooze_modal
from handlers.slack_io import explained, reply_to, services_of, user_of, workspace_of

logger = logging.getLogger(__name__)


def _selected(action: dict[str, Any]) -> str:
    return str((action.get("selected_option") or {}).get("value") or "")


@explained
async def handle_home_opened(
    event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    if event.get("tab") != "home":
        return
    user_id = str(event.get("user") or context.user_id or "")
    if not user_id:
        logger.warning("app_home_opened without a user; nothing to publish")
        return
    await publish_home(services_of(context), client, workspace_of(context), user_id)


async def _change_setting(context: AsyncBoltContext, client: AsyncWebClient, **change: Any) -> None:
    """Apply `change` and publish Home. No change (a value the control never offers, from
    an old or forged view) still publishes: Home shows the setting as it stands."""
    services, workspace_id, rep_id = services_of(context), workspace_of(context), user_of(context)
    if change:
        tz = await services.timezones.zone(client, workspace_id, rep_id)
        await change_digest_setting(services, workspace_id, rep_id, tz, **change)
    await publish_home(services, client, workspace_id, rep_id)


@explained
async def handle_digest_day(
    ack: AsyncAck, action: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    await ack()
    day = _selected(action)
    change = {"day": day, "enabled": True} if day in DAY_OPTIONS else {}
    await _change_setting(context, client, **change)


@explained
async def handle_digest_hour(
    ack: AsyncAck, action: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    await ack()
    hour = _selected(action)
    valid = hour.isascii() and hour.isdigit() and 0 <= int(hour) <= 23
    await _change_setting(
        context, client, **({"hour": int(hour), "enabled": True} if valid else {})
    )


@explained
async def handle_digest_toggle(
    ack: AsyncAck, action: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    await ack()
    value = action.get("value")
    await _change_setting(
        context, client, **({"enabled": value == "on"} if value in ("on", "off") else {})
    )


@explained
async def handle_digest_now(
    ack: AsyncAck, context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    await ack()
    services, workspace_id, rep_id = services_of(context), workspace_of(context), user_of(context)
    async with services.busy_slots:
        await send_digest(services, client, workspace_id, rep_id)
    await publish_home(services, client, workspace_id, rep_id)


@explained
async def handle_home_page(
    ack: AsyncAck, action: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    await ack()
    value = str(action.get("value") or "")
    page = int(value) if value.isascii() and value.isdigit() and len(value) < 6 else 0
    await publish_home(services_of(context), client, workspace_of(context), user_of(context), page)


@explained
async def handle_snooze_menu(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    await ack()
    services, workspace_id, rep_id = services_of(context), workspace_of(context), user_of(context)
    reply = reply_to(body, respond, client, rep_id)
    # The block id comes from the payload (its name is not echoed when unknown).
    slug = str(action.get("block_id") or "").removeprefix(ids.HOME_PROSPECT_BLOCK)
    known = await snoozable(services, workspace_id, rep_id, slug)
    if known is None:
        await reply(text=STALE_BUTTON, response_type="ephemeral", replace_original=False)
        return
    choice = _selected(action)
    # Nothing is asked of Slack before views.open: the trigger expires in 3 s.
    today = services.today((await services.timezones.known(workspace_id, rep_id))[1])
    if choice == "date":
        await client.views_open(
            trigger_id=str(body.get("trigger_id") or ""),
            view=build_snooze_modal(known.name, known.slug, today),
        )
        return
    until = snooze_until(choice, today)
    if choice != "wake" and until is None:
        await reply(text=STALE_BUTTON, response_type="ephemeral", replace_original=False)
        return
    await snooze_prospect(services, workspace_id, rep_id, known.slug, until)
    if body.get("response_url"):  # from the alert DM: say so there; Home shows it anyway
        said = f"Snoozed until {until:%a %d %b}." if until else "Awake again."
        await respond(
            text=f"{quote_input(known.name)}: {said}",
            response_type="ephemeral",
            replace_original=False,
        )
    await publish_home(services, client, workspace_id, rep_id)


@explained
async def handle_snooze_date(
    ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    services, workspace_id, rep_id = services_of(context), workspace_of(context), user_of(context)
    picked = (
        ((view.get("state") or {}).get("values") or {})
        .get(ids.SNOOZE_DATE_BLOCK, {})
        .get(ids.SNOOZE_DATE_ACTION, {})
        .get("selected_date")
    )
    # Nothing is asked of Slack before the ack: Slack waits 3 s for it.
    today = services.today((await services.timezones.known(workspace_id, rep_id))[1])
    until, problem = check_snooze_date(str(picked or ""), today)
    known = await snoozable(services, workspace_id, rep_id, str(view.get("private_metadata") or ""))
    if known is None:
        problem = "That prospect is no longer known here."
    if until is None or known is None:
        # The modal stays open with the date picked, and says what to change.
        said = problem or "Pick a date."
        await ack(response_action="errors", errors={ids.SNOOZE_DATE_BLOCK: said})
        return
    await ack()
    await snooze_prospect(services, workspace_id, rep_id, known.slug, until)
    await publish_home(services, client, workspace_id, rep_id)


@explained
async def handle_alerts_toggle(
    ack: AsyncAck, action: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    await ack()
    if action.get("value") not in ("on", "off"):
        return
    services, workspace_id, rep_id = services_of(context), workspace_of(context), user_of(context)
    await turn_alerts(services, workspace_id, rep_id, action.get("value") == "on")
    await publish_home(services, client, workspace_id, rep_id)
