"""Quiet-deal alerts: a deal is quiet when its silence passes its own rhythm (bot.domain.rhythm).

At most one DM a rep a day, on working days in the morning of their own time zone, listing
every quiet deal at once; snoozed and closed deals are left out; a rep can turn alerts off in
App Home.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.rhythm import quiet_deals
from bot.home.view import build_alert
from bot.services import Services
from memory.index import DigestSetting

logger = logging.getLogger(__name__)

ALERT_HOUR = 9  # the rep's local time, Monday to Friday
# A DM Slack refused (or missed while the bot was down) is tried at the next hours too.
LAST_ALERT_HOUR = 11


def alert_due(setting: DigestSetting, now: datetime) -> date | None:
    """The rep's local date when `now` is in their alert morning (09:00 to 11:59) on a
    working day, else None; the day's claim keeps it to one DM."""
    try:
        zone = ZoneInfo(setting.tz)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone)
    if local.weekday() >= 5 or not ALERT_HOUR <= local.hour <= LAST_ALERT_HOUR:
        return None
    return local.date()


async def send_quiet_alert(
    services: Services, client: AsyncWebClient, workspace_id: str, rep_id: str, day: date
) -> bool:
    """The rep's alert for their local `day`, claimed first: True when a DM went out. When
    the work after the claim fails, or Slack refuses the DM, the claim is given back so the
    next hour's run tries again; a DM whose fate is unknown (no answer) is not sent again."""
    if not await services.index.alerts_enabled(workspace_id, rep_id):
        return False
    if not await services.index.claim_alert(workspace_id, rep_id, day):
        return False

    async def give_back() -> None:
        with contextlib.suppress(Exception):
            await services.index.release_alert(workspace_id, rep_id, day)

    try:
        history = await services.index.call_history(workspace_id, rep_id)
        known = await services.index.known_prospects(workspace_id, rep_id)
        snoozed = await services.index.snoozed(workspace_id, rep_id, day)
    except Exception:
        logger.exception("No quiet-deal alert for %s this hour; trying next hour", rep_id)
        await give_back()
        return False
    deals = quiet_deals(history, {p.slug: p.name for p in known}, day, snoozed)
    if not deals:
        return False
    text, blocks = build_alert(deals)
    try:
        await client.chat_postMessage(channel=rep_id, text=text, blocks=blocks)
    except SlackApiError:
        logger.exception("Slack refused %s's quiet-deal alert; trying next hour", rep_id)
        await give_back()
        return False
    return True


async def turn_alerts(services: Services, workspace_id: str, rep_id: str, on: bool) -> None:
    """A rep's quiet-deal alerts on or off (App Home's toggle)."""
    await services.index.set_alerts(workspace_id, rep_id, on)


async def send_due_alerts(
    services: Services,
    client: AsyncWebClient,
    now: datetime,
    slots: asyncio.Semaphore,
    workers: int,
) -> int:
    """The hourly job: send the alerts due at `now` (each rep's morning on a working day),
    each in one of the `slots` shared with the digest. Returns how many DMs went out."""
    due = [
        (s, day)
        for s in await services.index.digest_settings()
        if (day := alert_due(s, now)) is not None
    ]
    sent = 0

    async def worker() -> None:
        # A few workers over the list, not one task per rep: 1,000 reps due at 09:00 never
        # stampede the database or Slack.
        nonlocal sent
        while due:
            setting, day = due.pop()
            async with slots:
                try:
                    sent += await send_quiet_alert(
                        services, client, setting.workspace_id, setting.rep_id, day
                    )
                except Exception:
                    logger.exception("Quiet-deal alert for %s failed", setting.rep_id)

    await asyncio.gather(*(worker() for _ in range(min(workers, len(due)))))
    return sent
