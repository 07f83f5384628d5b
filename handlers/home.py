"""The App Home tab: published when a rep opens it, and when they page it or change their
digest's settings there (bot.home publishes it after a logged call or a digest too)."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import ids
from bot.blocks.home import DAY_OPTIONS
from bot.digest_delivery import send_digest
from bot.home import publish_home
from bot.services import Services
from handlers.slack_io import explained, user_of, workspace_of
from memory.index import DigestSetting

logger = logging.getLogger(__name__)


def _selected(action: dict[str, Any]) -> str:
    return str((action.get("selected_option") or {}).get("value") or "")


def register(app: AsyncApp, services: Services) -> None:
    @app.event("app_home_opened")
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
        await publish_home(services, client, workspace_of(context), user_id)

    async def change_setting(
        context: AsyncBoltContext, client: AsyncWebClient, **change: Any
    ) -> None:
        workspace_id, rep_id = workspace_of(context), user_of(context)
        current = await services.index.digest_setting(workspace_id, rep_id)
        if current is None:
            tz = await services.timezones.zone(client, workspace_id, rep_id)
            current = DigestSetting(workspace_id, rep_id, tz or "UTC")
        await services.index.save_digest_setting(replace(current, **change))
        await publish_home(services, client, workspace_id, rep_id)

    @app.action(ids.HOME_DIGEST_DAY_ACTION)
    @explained
    async def handle_digest_day(
        ack: AsyncAck, action: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        await ack()
        day = _selected(action)
        if day in DAY_OPTIONS:
            await change_setting(context, client, day=day, enabled=True)

    @app.action(ids.HOME_DIGEST_HOUR_ACTION)
    @explained
    async def handle_digest_hour(
        ack: AsyncAck, action: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        await ack()
        hour = _selected(action)
        if hour.isascii() and hour.isdigit() and 0 <= int(hour) <= 23:
            await change_setting(context, client, hour=int(hour), enabled=True)

    @app.action(ids.HOME_DIGEST_TOGGLE_ACTION)
    @explained
    async def handle_digest_toggle(
        ack: AsyncAck, action: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        await ack()
        if action.get("value") in ("on", "off"):
            await change_setting(context, client, enabled=action.get("value") == "on")

    @app.action(ids.HOME_DIGEST_NOW_ACTION)
    @explained
    async def handle_digest_now(
        ack: AsyncAck, context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        await ack()
        workspace_id, rep_id = workspace_of(context), user_of(context)
        async with services.busy_slots:
            await send_digest(services, client, workspace_id, rep_id)
        await publish_home(services, client, workspace_id, rep_id)

    @app.action(re.compile(f"^{ids.HOME_PAGE_ACTION}"))
    @explained
    async def handle_home_page(
        ack: AsyncAck, action: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        await ack()
        value = str(action.get("value") or "")
        page = int(value) if value.isascii() and value.isdigit() and len(value) < 6 else 0
        await publish_home(services, client, workspace_of(context), user_of(context), page)
