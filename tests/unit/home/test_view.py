"""App Home built without Slack: the pipeline, its order, its pages and the digest controls."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from bot.blocks import ids
from bot.blocks.limits import SECTION_TEXT
from bot.home.view import (
    HOME_BLOCKS,
    PAGE_SIZE,
    HomeState,
    PipelineRow,
    build_home_view,
    health_bar,
)
from memory.index import DealHealth, DigestSetting, KnownProspect
from tests.support.blocks import buttons, render

TODAY = date(2026, 11, 20)
SETTING = DigestSetting("T1", "U1", "Europe/Paris", day="tue", hour=9)


def row(name: str, last: date | None = date(2026, 11, 10), **health: object) -> PipelineRow:
    prospect = KnownProspect(name.lower().replace(" ", "-"), name, "Acme", last, 3)
    if not health:
        return PipelineRow(prospect, None)
    values: dict[str, object] = {
        "slug": prospect.slug,
        "score": 60,
        "label": "Engaged",
        "momentum": "stable",
        "briefed_on": date(2026, 11, 18),
    }
    values.update(health)
    return PipelineRow(prospect, DealHealth(**values))  # type: ignore[arg-type]


def state(rows: list[PipelineRow], page: int = 0, team: bool = False) -> HomeState:
    last = datetime(2026, 11, 17, 8, tzinfo=UTC)
    return HomeState(rows, TODAY, SETTING, last, page, team_view=team)


@pytest.mark.parametrize("team", [False, True])
@pytest.mark.parametrize("count", [0, 1, 60, 200])
def test_home_stays_within_block_kit_limits(count: int, team: bool) -> None:
    rows = [row(f"Prospect {n:03d}", score=n % 100) for n in range(count)]
    view = build_home_view(state(rows, team=team))
    # The team view's button for those who may see it, and the paging always fit.
    assert ("Team view" in render(view["blocks"])) is team
    if count > PAGE_SIZE:
        assert view["blocks"][-1]["block_id"] == "home_pages"
    assert len(view["blocks"]) <= HOME_BLOCKS
    assert all(len(json.dumps(b)) < 4000 for b in view["blocks"])
    for block in view["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= SECTION_TEXT
    shown = [b for b in view["blocks"] if b.get("block_id", "").startswith(ids.HOME_PROSPECT_BLOCK)]
    assert len(shown) == min(count, PAGE_SIZE)
    if count == 0:
        assert "No calls logged yet" in render(view["blocks"])


def test_the_health_bar_fills_to_the_nearest_tenth() -> None:
    assert health_bar(0) == "▱" * 10
    assert health_bar(42) == "▰" * 4 + "▱" * 6
    assert health_bar(100) == "▰" * 10


def test_what_needs_the_rep_most_comes_first() -> None:
    rows = [
        row("Healthy Hana", score=85, label="Closing", last=date(2026, 11, 19)),
        row("Risky Rita", score=70, label="At risk"),
        row("Late Leo", score=70, next_due=date(2026, 11, 14), open_commitments=1),
        row("Unbriefed Uma", last=date(2026, 11, 18)),
        row("Silent Sam", score=55, last=date(2026, 9, 1)),
    ]
    text = render(build_home_view(state(rows))["blocks"])
    order = [n for n in ("Risky", "Late", "Silent", "Unbriefed", "Healthy") if n in text]
    assert sorted(order, key=text.index) == ["Risky", "Late", "Silent", "Unbriefed", "Healthy"]
    assert "1 open commitment, next due 14 Nov ⚠️ overdue" in text
    assert "`▰▰▰▰▰▰▰▱▱▱` *70* · At risk · → stable _(brief of 18 Nov)_" in text
    assert "last contact 01 Sep (80 days of silence)" in text


def test_pages_move_through_the_pipeline() -> None:
    rows = [row(f"Prospect {n:03d}", score=50) for n in range(90)]
    first = build_home_view(state(rows))["blocks"]
    assert "Page 1 of 3" in render(first)
    [next_page] = [b for b in buttons(first) if b["action_id"].startswith(ids.HOME_PAGE_ACTION)]
    assert next_page["value"] == "1"
    last = build_home_view(state(rows, page=7))["blocks"]  # past the end: the last page
    assert "Page 3 of 3" in render(last)
    assert [b["text"]["text"] for b in buttons(last) if "page" in b["action_id"]] == ["◀ Previous"]


def test_digest_settings_are_controls_with_the_current_values() -> None:
    blocks = build_home_view(state([row("Ana Ruiz")]))["blocks"]
    controls = next(b for b in blocks if b.get("block_id") == "digest_settings")["elements"]
    by_action = {c["action_id"]: c for c in controls}
    assert by_action[ids.HOME_DIGEST_DAY_ACTION]["initial_option"]["value"] == "tue"
    assert by_action[ids.HOME_DIGEST_HOUR_ACTION]["initial_option"]["value"] == "9"
    assert by_action[ids.HOME_DIGEST_TOGGLE_ACTION]["value"] == "off"  # it is on: turn it off
    text = render(blocks)
    assert "Tuesdays at 09:00 (Europe/Paris)" in text and "last one Tue 17 Nov" in text


def test_names_from_reps_are_escaped() -> None:
    blocks = build_home_view(state([row("<!channel> Eve")]))["blocks"]
    text = " ".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert "<!channel>" not in text and "&lt;!channel&gt; Eve" in text
