"""Each rep's time zone, asked of Slack once and then kept: not on every interaction.

Where a rep's zone comes from, cheapest first: this process's cache, the zone stored when the
rep was enrolled for digests (the local index), and only then Slack's `users.info`. A zone is
kept for a day; Slack's `user_change` event tells of a move at once (`moved`), and the stored
zone, which times the digest and the alerts, follows it.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from memory.index import LocalIndex

logger = logging.getLogger(__name__)

KEEP_SECONDS = 24 * 3600
MAX_REPS = 10_000
_UNKNOWN = ""  # Slack would not say: kept too, so a failing users.info is not asked again


class RepTimezones:
    def __init__(
        self,
        index: LocalIndex,
        keep_seconds: float = KEEP_SECONDS,
        max_reps: int = MAX_REPS,
        on_user: Callable[[str, str, dict[str, Any]], None] | None = None,
    ) -> None:
        """`on_user` hears each `users.info` answer asked here (App Home's team button uses
        the admin flag it carries rather than asking Slack again)."""
        self._index = index
        self._on_user = on_user
        self._keep = keep_seconds
        self._max = max_reps
        self._zones: OrderedDict[tuple[str, str], tuple[str, float]] = OrderedDict()

    async def known(self, workspace_id: str, rep_id: str) -> tuple[bool, str | None]:
        """(known, zone) without asking Slack: from this process or the local index."""
        key = (workspace_id, rep_id)
        cached = self._zones.get(key)
        if cached is not None and cached[1] > time.monotonic():
            self._zones.move_to_end(key)
            return True, cached[0] or None
        try:
            setting = await self._index.digest_setting(workspace_id, rep_id)
        except Exception:
            # A zone is a nicety: a database that fails here must not stop a form opening.
            logger.warning("Could not read %s's stored time zone", rep_id, exc_info=True)
            return False, None
        if setting is not None and setting.tz:
            self._keep_zone(key, setting.tz)
            return True, setting.tz
        return False, None

    async def zone(self, client: AsyncWebClient, workspace_id: str, rep_id: str) -> str | None:
        """The rep's zone (e.g. "Europe/London"), or None when Slack won't say (then UTC)."""
        known, zone = await self.known(workspace_id, rep_id)
        if known:
            return zone
        try:
            response = await client.users_info(user=rep_id)
        except SlackApiError:
            logger.exception("users.info failed for %s; using UTC", rep_id)
            return None
        user = response.get("user") or {}
        if self._on_user is not None:
            self._on_user(workspace_id, rep_id, user)
        found = user.get("tz")
        zone = found if isinstance(found, str) and found else None
        self._keep_zone((workspace_id, rep_id), zone or _UNKNOWN)
        return zone

    async def moved(self, workspace_id: str, rep_id: str, zone: str) -> bool:
        """Slack says the rep's zone is now `zone`: keep it, and store it when the rep is
        enrolled and it changed (their digest and alerts move with it). True when stored."""
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            logger.warning("Slack gave %s an unknown time zone %r; ignored", rep_id, zone)
            return False
        key = (workspace_id, rep_id)
        # Slack sends this for every member's every profile change: a read first, and a
        # write only for an enrolled rep whose zone changed.
        setting = await self._index.digest_setting(workspace_id, rep_id)
        if setting is None or setting.tz == zone:
            if setting is not None or key in self._zones:
                self._keep_zone(key, zone)
            if setting is None:
                logger.debug("%s has no digest: their new zone is not stored", rep_id)
            return False
        moved = await self._index.move_rep(workspace_id, rep_id, zone)
        self._keep_zone(key, zone)
        if moved:
            logger.info("%s moved to %s: their digest and alerts follow", rep_id, zone)
        return moved

    def _keep_zone(self, key: tuple[str, str], zone: str) -> None:
        self._zones[key] = (zone, time.monotonic() + self._keep)
        self._zones.move_to_end(key)
        while len(self._zones) > self._max:
            self._zones.popitem(last=False)
