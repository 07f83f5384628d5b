import re
from datetime import date, timedelta
from typing import Any

from bot.blocks.limits import BUTTON_VALUE, HEADER_TEXT, MESSAGE_BLOCKS, SECTION_TEXT
from bot.blocks.timeline import build_timeline_blocks, paginate
from bot.prospect_lookup import ProspectMatch
from bot.timeline import Timeline
from memory.records import TimelineEntry, newest_first


def entry(i: int, pending: bool = False) -> TimelineEntry:
    head = f"Call {i:02d}. <!channel> <@U999> R&D asked "
    return TimelineEntry(
        call_id=f"c{i}",
        prospect="Priya Sharma",
        call_date=date(2026, 1, 1) + timedelta(days=i),
        outcome="objection",
        rep_id="U0REP1",
        note=head + "x" * (3000 - len(head)),
        has_transcript=i % 2 == 0,
        logged_at=f"2026-01-01T00:00:{i:02d}+00:00",
        pending=pending,
    )


def texts(node: Any, key: str) -> list[str]:
    """Every string under `key` anywhere in the blocks."""
    if isinstance(node, list):
        return [t for item in node for t in texts(item, key)]
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k == key and isinstance(v, str)]
        return found + [t for v in node.values() for t in texts(v, key)]
    return []


MATCH = ProspectMatch("priya", "priya-sharma", "Priya Sharma " + "Q" * 200, True, [])
TIMELINE = Timeline(MATCH, newest_first([entry(i, pending=i == 39) for i in range(40)]))
PAGES = [build_timeline_blocks(TIMELINE, p) for p in range(len(paginate(TIMELINE.entries)))]


def test_every_page_stays_within_block_kit_limits() -> None:
    assert len(PAGES) > 1
    for blocks in PAGES:
        assert len(blocks) <= MESSAGE_BLOCKS
        assert all(len(t) <= SECTION_TEXT for t in texts(blocks, "text"))
        assert all(len(v) <= BUTTON_VALUE for v in texts(blocks, "value"))
        assert len(blocks[0]["text"]["text"]) <= HEADER_TEXT


def test_all_entries_appear_once_newest_first_across_pages() -> None:
    shown = [int(n) for blocks in PAGES for n in re.findall(r"Call (\d\d)\.", str(blocks))]
    assert shown == list(range(39, -1, -1))


def test_mentions_in_notes_are_escaped_but_the_rep_is_mentioned() -> None:
    for blocks in PAGES:
        rendered = " ".join(texts(blocks, "text"))
        assert "<!channel>" not in rendered
        assert "<@U999>" not in rendered
        assert "&lt;!channel&gt;" in rendered
        assert "<@U0REP1>" in rendered


def test_only_the_pending_entry_shows_the_kept_here_marker() -> None:
    marked = [str(blocks).count("on its way to memory") for blocks in PAGES]
    assert marked[0] == 1
    assert sum(marked) == 1


def test_out_of_range_page_is_clamped() -> None:
    assert build_timeline_blocks(TIMELINE, 999) == PAGES[-1]
    assert build_timeline_blocks(TIMELINE, -4) == PAGES[0]


def test_empty_timeline_says_no_calls_and_offers_each_suggestion() -> None:
    match = ProspectMatch("jmes", "jmes", "jmes", False, ["James Okafor", "James Oakes"])
    blocks = build_timeline_blocks(Timeline(match, []))
    assert "no calls logged" in blocks[0]["text"]["text"]
    suggestion_buttons = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert [b["value"] for b in suggestion_buttons] == ["James Okafor", "James Oakes"]
