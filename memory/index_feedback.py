"""Thumbs up and down on the bot's answers: one row per vote with the task and the time, never
who gave it or what was asked, kept 90 days like the model's usage."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Column, DateTime, Index, Integer, String, Table, delete, func, select

from memory.index_base import IndexBase, offloaded
from memory.index_tables import metadata

FEEDBACK_KEPT = timedelta(days=90)

answer_feedback = Table(
    "answer_feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workspace_id", String(32), nullable=False),
    Column("task", String(32), nullable=False),
    Column("helpful", Integer, nullable=False),  # 1: 👍, 0: 👎
    Column("at", DateTime(timezone=True), nullable=False),
    Index("answer_feedback_by_workspace", "workspace_id", "at"),
)


class FeedbackIndex(IndexBase):
    """Votes on answers, counted per task."""

    @offloaded("write")
    def record_feedback(self, workspace_id: str, task: str, helpful: bool, at: datetime) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                answer_feedback.insert().values(
                    workspace_id=workspace_id, task=task, helpful=int(helpful), at=at
                )
            )
            conn.execute(delete(answer_feedback).where(answer_feedback.c.at < at - FEEDBACK_KEPT))

    @offloaded("read")
    def feedback_since(self, workspace_id: str, since: datetime) -> dict[str, tuple[int, int]]:
        """Per task: (👍, 👎) since `since`."""
        query = (
            select(
                answer_feedback.c.task,
                func.sum(answer_feedback.c.helpful).label("up"),
                func.count().label("votes"),
            )
            .where(answer_feedback.c.workspace_id == workspace_id, answer_feedback.c.at >= since)
            .group_by(answer_feedback.c.task)
        )
        with self._engine.connect() as conn:
            return {
                row.task: (int(row.up or 0), int(row.votes) - int(row.up or 0))
                for row in conn.execute(query)
            }
