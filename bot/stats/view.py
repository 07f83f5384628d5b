"""`/salesmemory stats`: what the model cost this workspace this week, per task."""

from __future__ import annotations

from typing import Any

from memory.index import TaskUsage

STATS_USAGE = (
    "Usage: `/salesmemory stats` shows, per task, how often the small model's answer was "
    "escalated to the large one and the tokens spent this week."
)


def _tokens(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f}M"
    if count >= 1_000:
        return f"{count / 1_000:.1f}k"
    return str(count)


def _votes(feedback: dict[str, tuple[int, int]], task: str) -> str:
    up, down = feedback.get(task, (0, 0))
    return f" · 👍 {up} 👎 {down}" if up or down else ""


def build_stats_blocks(
    usage: list[TaskUsage],
    fast_model: str | None,
    strong_model: str | None,
    feedback: dict[str, tuple[int, int]] | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """The fallback text and the blocks: one line per task, the models above them."""
    if strong_model is None:
        text = "AI answers are not configured here (no GROQ_API_KEY): nothing is asked of a model."
        return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    models = (
        f"Small model first: `{fast_model}`, then `{strong_model}` when its answer fails a check."
        if fast_model
        else f"Every task goes to `{strong_model}`."
    )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Model usage, last 7 days"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": models}]},
    ]
    if not usage:
        text = "Nothing was asked of the model in the last 7 days."
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
        return text, blocks
    lines = [
        f"*{u.task}* — {u.asked} asked · {u.escalated_share:.0%} escalated"
        + (f" · {u.failed} failed" if u.failed else "")
        + f" · {_tokens(u.tokens)} tokens · {u.mean_latency_ms / 1000:.1f} s on average"
        + _votes(feedback or {}, u.task)
        for u in usage
    ]
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}})
    total = sum(u.tokens for u in usage)
    return f"Model usage, last 7 days: {_tokens(total)} tokens", blocks
