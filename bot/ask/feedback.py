"""A rep's thumbs up or down on an answer: kept as a count per task and week, never with the
question, the answer or who gave it."""

from __future__ import annotations

from bot.services import Services

TASK = "ask"
VALUES = ("up", "down")


async def record_feedback(services: Services, workspace_id: str, value: str) -> bool:
    """Count one 👍 or 👎 on an answer; False for anything else (a forged value)."""
    if value not in VALUES:
        return False
    await services.index.record_feedback(workspace_id, TASK, value == "up", services.clock())
    return True
