"""What the model cost (one row per question: task, model, escalation, latency, tokens) and how
reps rated the answers (one row per 👍 or 👎: task and time). Never a prompt, an answer, a
question or who voted; rows go after 90 days (the stats show a week)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from memory.index_base import IndexBase, offloaded
from memory.index_tables import answer_feedback, llm_usage
from memory.records import LlmUsage


@dataclass(frozen=True)
class TaskUsage:
    """What one task of the model cost over a period: questions, escalations, failures."""

    task: str
    asked: int
    escalated: int
    failed: int
    tokens: int
    mean_latency_ms: int

    @property
    def escalated_share(self) -> float:
        return self.escalated / self.asked if self.asked else 0.0


# How long the model's usage rows are kept (the stats show a week).
LLM_USAGE_KEPT = timedelta(days=90)

FEEDBACK_KEPT = timedelta(days=90)


class UsageIndex(IndexBase):
    """The model's usage and the votes on its answers, counted per task."""

    @offloaded("write")
    def record_llm_usage(self, usage: LlmUsage) -> None:
        """Keep one question's cost (never its prompt or answer); drop rows past 90 days."""
        with self._engine.begin() as conn:
            conn.execute(
                llm_usage.insert().values(
                    workspace_id=usage.workspace_id,
                    task=usage.task,
                    model=usage.model,
                    ok=int(usage.ok),
                    escalated=int(usage.escalated),
                    reason=(usage.reason or "")[:400] or None,
                    requests=usage.requests,
                    latency_ms=usage.latency_ms,
                    prompt_tokens=usage.prompt_tokens,
                    completion_tokens=usage.completion_tokens,
                    at=usage.at,
                )
            )
            conn.execute(delete(llm_usage).where(llm_usage.c.at < usage.at - LLM_USAGE_KEPT))

    @offloaded("read")
    def llm_usage_since(self, workspace_id: str, since: datetime) -> list[TaskUsage]:
        """Per task, what the model cost this workspace since `since`, most asked first."""
        asked = func.count()
        query = (
            select(
                llm_usage.c.task,
                asked.label("asked"),
                func.sum(llm_usage.c.escalated).label("escalated"),
                func.sum(1 - llm_usage.c.ok).label("failed"),
                func.sum(llm_usage.c.prompt_tokens + llm_usage.c.completion_tokens).label("tokens"),
                func.avg(llm_usage.c.latency_ms).label("latency"),
            )
            .where(llm_usage.c.workspace_id == workspace_id, llm_usage.c.at >= since)
            .group_by(llm_usage.c.task)
            .order_by(asked.desc(), llm_usage.c.task)
        )
        with self._engine.connect() as conn:
            return [
                TaskUsage(
                    task=row.task,
                    asked=int(row.asked),
                    escalated=int(row.escalated or 0),
                    failed=int(row.failed or 0),
                    tokens=int(row.tokens or 0),
                    mean_latency_ms=round(float(row.latency or 0)),
                )
                for row in conn.execute(query)
            ]

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
