"""Quiet-deal alerts: a deal is quiet when its silence passes its own rhythm.

A deal's rhythm is the median gap between its calls, kept within sensible bounds (a deal
called daily is not quiet after two days; one called every quarter is still worth a nudge
after six weeks); a deal with one call gets the default. At most one DM a rep a day, on
working days in the morning of their own time zone, listing every quiet deal at once; snoozed
and closed deals are left out; a rep can turn alerts off in App Home.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import statistics
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import ids
from bot.blocks.home import snooze_menu
from bot.blocks.limits import HEADER_TEXT, button, escape_mrkdwn, mrkdwn, plain
from bot.services import Services
from memory.index import DigestSetting
from memory.records import CLOSED, FOLLOW_UP_SENT

logger = logging.getLogger(__name__)

SHORTEST_RHYTHM = 7  # days
LONGEST_RHYTHM = 45
DEFAULT_RHYTHM = 14  # a deal with a single call
ALERT_HOUR = 9  # the rep's local time, Monday to Friday
# A DM Slack refused (or missed while the bot was down) is tried at the next hours too.
LAST_ALERT_HOUR = 11
MOST_DEALS_LISTED = 20


def rhythm(call_dates: list[date]) -> int:
    """The deal's usual gap between calls in days: the median gap, within the bounds."""
    days = sorted(set(call_dates))
    if len(days) < 2:
        return DEFAULT_RHYTHM
    gaps = [(later - earlier).days for earlier, later in itertools.pairwise(days)]
    return max(SHORTEST_RHYTHM, min(LONGEST_RHYTHM, round(statistics.median(gaps))))


def standing(calls: list[tuple[date, str]]) -> tuple[date, str | None]:
    """A deal's last contact (a follow-up email counts) and the outcome of its latest call
    (a follow-up email is not a call; a close wins a tie on its day). None: no call yet."""
    last_contact = max(day for day, _ in calls)
    real = [(day, outcome) for day, outcome in calls if outcome != FOLLOW_UP_SENT]
    if not real:
        return last_contact, None
    last_day = max(day for day, _ in real)
    outcomes = sorted(outcome for day, outcome in real if day == last_day)
    return last_contact, next((o for o in CLOSED if o in outcomes), outcomes[0])


@dataclass(frozen=True)
class QuietDeal:
    slug: str
    name: str
    silence: int  # days since the last contact (a call or a follow-up email)
    rhythm: int


def quiet_deals(
    history: dict[str, list[tuple[date, str]]],
    names: dict[str, str],
    today: date,
    snoozed: dict[str, date],
) -> list[QuietDeal]:
    """The deals whose silence has passed their rhythm, the longest overdue first."""
    quiet = []
    for slug, calls in history.items():
        if not calls or slug in snoozed:
            continue
        last_contact, outcome = standing(calls)
        if outcome in CLOSED:
            continue
        usual = rhythm([day for day, kind in calls if kind != FOLLOW_UP_SENT])
        silence = (today - last_contact).days
        if silence > usual:
            quiet.append(QuietDeal(slug, names.get(slug, slug), silence, usual))
    return sorted(quiet, key=lambda d: (-(d.silence / d.rhythm), d.name.lower()))


def build_alert(deals: list[QuietDeal]) -> tuple[str, list[dict[str, Any]]]:
    """One DM listing every quiet deal, each with Brief and Snooze."""
    count = len(deals)
    text = f"{count} deal{'s have' if count != 1 else ' has'} gone quiet"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(f"🔕 {text}", HEADER_TEXT)},
        {
            "type": "context",
            "elements": [
                mrkdwn(
                    "Quiet means silent for longer than the deal's own rhythm (the usual gap "
                    "between its calls). Snooze a deal to stop hearing about it; turn these "
                    "alerts off in the app's Home."
                )
            ],
        },
    ]
    for deal in deals[:MOST_DEALS_LISTED]:
        blocks.append(
            {
                "type": "section",
                "text": mrkdwn(
                    f"*{escape_mrkdwn(deal.name)}* — {deal.silence} days since the last call; "
                    f"usually every {deal.rhythm} days"
                ),
            }
        )
        blocks.append(
            {
                "type": "actions",
                "block_id": f"{ids.HOME_PROSPECT_BLOCK}{deal.slug}",
                "elements": [
                    button("Brief", f"{ids.OPEN_BRIEF_ACTION}_alert", deal.name, primary=True),
                    snooze_menu(),
                ],
            }
        )
    if count > MOST_DEALS_LISTED:
        more = count - MOST_DEALS_LISTED
        blocks.append({"type": "context", "elements": [mrkdwn(f"…and {more} more in Home.")]})
    return text, blocks


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
