"""Slack's `user_change` event: a rep who moves gets their digest and alerts in their new zone
at once, not after a day; a member made an admin gets App Home's team button. Only the zone
and the admin flags are read from it."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncBoltContext

from handlers.slack_io import services_of, workspace_of

logger = logging.getLogger(__name__)


async def handle_user_change(event: dict[str, Any], context: AsyncBoltContext) -> None:
    # No one to tell about a failure here (the member changed their profile, not asked
    # us anything): it is logged, and the day-old cache catches up anyway.
    user = event.get("user")
    if not isinstance(user, dict):
        return
    rep_id, zone = user.get("id"), user.get("tz")
    if not (isinstance(rep_id, str) and rep_id):
        return
    try:
        services, workspace_id = services_of(context), workspace_of(context)
        # The event carries the member's admin flag too: App Home's team button follows.
        services.team_access.learn(workspace_id, rep_id, user)
        if isinstance(zone, str) and zone:
            await services.timezones.moved(workspace_id, rep_id, zone)
    except Exception:
        logger.exception("Could not follow %s's profile change", rep_id)
