"""The model's usage in a workspace over the last week, from the local index."""

from __future__ import annotations

from datetime import timedelta

from bot.services import Services
from memory.index import TaskUsage

STATS_PERIOD = timedelta(days=7)


async def usage_this_week(services: Services, workspace_id: str) -> list[TaskUsage]:
    """Per task: how often the small model's answer was escalated, and the tokens spent."""
    return await services.index.llm_usage_since(workspace_id, services.clock() - STATS_PERIOD)


async def feedback_this_week(services: Services, workspace_id: str) -> dict[str, tuple[int, int]]:
    """Per task: the 👍 and 👎 reps gave its answers."""
    return await services.index.feedback_since(workspace_id, services.clock() - STATS_PERIOD)
