"""The `/salesmemory stats` message, built without Slack."""

from __future__ import annotations

from bot.stats.view import build_stats_blocks
from memory.index import TaskUsage
from tests.support.blocks import render


def test_each_task_shows_its_escalations_failures_tokens_and_latency() -> None:
    usage = [
        TaskUsage("brief", asked=40, escalated=6, failed=1, tokens=412_000, mean_latency_ms=1800),
        TaskUsage("digest", asked=3, escalated=0, failed=0, tokens=1_000, mean_latency_ms=4200),
    ]
    text, blocks = build_stats_blocks(usage, "small", "large")
    shown = render(blocks)
    assert "*brief* — 40 asked · 15% escalated · 1 failed · 412.0k tokens · 1.8 s" in shown
    assert "*digest* — 3 asked · 0% escalated · 1.0k tokens · 4.2 s" in shown
    assert "`small`, then `large`" in shown
    assert text == "Model usage, last 7 days: 413.0k tokens"


def test_a_quiet_week_and_a_single_model_say_so() -> None:
    _, blocks = build_stats_blocks([], None, "large")
    shown = render(blocks)
    assert "Every task goes to `large`." in shown and "Nothing was asked" in shown


def test_without_a_model_it_says_ai_is_not_configured() -> None:
    text, _ = build_stats_blocks([], None, None)
    assert "not configured" in text
