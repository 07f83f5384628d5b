"""Hourly housekeeping, run by the scheduler (bot/scheduler.py): what is kept only for a while
goes when its time is up, even when nothing new comes to push it out."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.services import Services

logger = logging.getLogger(__name__)


async def tidy(services: Services, now: datetime) -> int:
    """Drop follow-up drafts kept past their two weeks (their text is the prospect's), even
    when no new draft is made. Returns how many went."""
    dropped = await services.index.drop_old_drafts(now)
    if dropped:
        logger.info("Dropped %d follow-up drafts older than two weeks", dropped)
    return dropped
