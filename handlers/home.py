"""The App Home tab, published whenever a rep opens it."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.home import build_home_view
from bot.services import Services
from handlers.slack_io import explained, workspace_of

logger = logging.getLogger(__name__)


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
        workspace_id = workspace_of(context)
        prospects = await services.index.known_prospects(workspace_id, rep_id=user_id)
        today = services.today(await services.timezones.zone(client, workspace_id, user_id))
        try:
            await client.views_publish(user_id=user_id, view=build_home_view(prospects, today))
        except SlackApiError:
            logger.exception("views.publish failed for %s", user_id)
