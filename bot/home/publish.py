"""Publishing a rep's App Home: from the local index alone, retried when Slack fails."""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.web.async_client import AsyncWebClient

from bot.home.view import HomeState, PipelineRow, build_home_view
from bot.services import Services

logger = logging.getLogger(__name__)

PUBLISH_ATTEMPTS = 3
PUBLISH_BACKOFF_SECONDS = 1.0


async def home_state(
    services: Services, client: AsyncWebClient, workspace_id: str, rep_id: str, page: int = 0
) -> HomeState:
    """The rep's own prospects with their health, their digest setting and last digest; all
    from the local index (never from paging memory)."""
    prospects = await services.index.known_prospects(workspace_id, rep_id=rep_id)
    # Under NOTES_VISIBILITY=own, only the verdicts of the rep's own briefs: a teammate's
    # brief was drawn from notes this rep may not read.
    slugs = [p.slug for p in prospects]
    health = await services.index.health_of(workspace_id, slugs, services.seen_by(rep_id))
    setting = await services.index.digest_setting(workspace_id, rep_id)
    last = await services.index.last_digest_sent(workspace_id, rep_id)
    today = services.today(await services.timezones.zone(client, workspace_id, rep_id))
    snoozed = await services.index.snoozed(workspace_id, rep_id, today)
    rows = [PipelineRow(p, health.get(p.slug), snoozed.get(p.slug)) for p in prospects]
    alerts_on = await services.index.alerts_enabled(workspace_id, rep_id)
    try:
        team = await services.team_access.allowed(
            client, workspace_id, rep_id, services.team_usergroup
        )
    except Exception:
        # Only the team view's button depends on it: the rep's pipeline is shown anyway.
        logger.warning("Could not tell whether %s may see the team view", rep_id, exc_info=True)
        team = False
    return HomeState(rows, today, setting, last, page, alerts_on, team)


async def publish_home(
    services: Services, client: AsyncWebClient, workspace_id: str, rep_id: str, page: int = 0
) -> bool:
    """Publish the rep's Home; a failure is logged and tried again (3 tries in all)."""
    for attempt in range(1, PUBLISH_ATTEMPTS + 1):
        try:
            view = build_home_view(await home_state(services, client, workspace_id, rep_id, page))
            await client.views_publish(user_id=rep_id, view=view)
            return True
        except Exception:
            logger.warning(
                "views.publish for %s failed (try %d of %d)",
                rep_id,
                attempt,
                PUBLISH_ATTEMPTS,
                exc_info=True,
            )
            if attempt < PUBLISH_ATTEMPTS:
                await asyncio.sleep(PUBLISH_BACKOFF_SECONDS * attempt)
    logger.error("Could not publish App Home for %s", rep_id)
    return False


def refresh_home_later(
    services: Services, client: AsyncWebClient, workspace_id: str, rep_id: str
) -> None:
    """Publish the rep's Home in the background (after a logged call): a few at a time, and
    a rep whose refresh is still waiting gets no second one (a burst of logs never stampedes)."""
    key = (workspace_id, rep_id)
    if key in services.home_pending:
        return
    services.home_pending.add(key)

    async def refresh() -> None:
        try:
            async with services.home_slots:
                services.home_pending.discard(key)
                await publish_home(services, client, workspace_id, rep_id)
        finally:
            services.home_pending.discard(key)

    task = asyncio.create_task(refresh())
    _REFRESHING.add(task)
    task.add_done_callback(_REFRESHING.discard)


_REFRESHING: set[asyncio.Task[None]] = set()
