import re
from datetime import date, timedelta
from typing import Any

from bot.blocks.limits import BUTTON_VALUE, HEADER_TEXT, MESSAGE_BLOCKS, SECTION_TEXT
from bot.domain.prospect_lookup import ProspectMatch
from bot.timeline.history import PAGE_CHARS, PAGE_ENTRIES, Timeline, cut_page, paginate
from bot.timeline.view import build_timeline_blocks
from memory.records import ListedCall, TimelineEntry, newest_first


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


def listed(shown: TimelineEntry) -> ListedCall:
    """The call as memory's listing gives it: its note's length, not its note."""
    return ListedCall(
        call_id=shown.call_id,
        prospect=shown.prospect,
        call_date=shown.call_date,
        outcome=shown.outcome,
        rep_id=shown.rep_id,
        has_transcript=shown.has_transcript,
        logged_at=shown.logged_at,
        length=len(shown.note),
        metadata={"content": "note"},
    )


MATCH = ProspectMatch("priya", "priya-sharma", "Priya Sharma " + "Q" * 200, True, [])
ENTRIES = newest_first([entry(i, pending=i == 39) for i in range(40)])


def page_of(entries: list[TimelineEntry], wanted: int) -> Timeline:
    page, pages, shown = cut_page(entries, wanted)
    return Timeline(MATCH, shown, len(entries), entries[0].call_date, page, pages)


PAGES = [build_timeline_blocks(page_of(ENTRIES, p)) for p in range(len(paginate([3000] * 40)))]


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
    assert build_timeline_blocks(page_of(ENTRIES, 999)) == PAGES[-1]
    assert build_timeline_blocks(page_of(ENTRIES, -4)) == PAGES[0]


def test_pages_hold_at_most_ten_calls_and_about_twelve_thousand_characters() -> None:
    assert paginate([10] * 25) == [(0, PAGE_ENTRIES), (10, 20), (20, 25)]
    assert paginate([2500] * 6) == [(0, 4), (4, 6)]  # 5 × 2,500 > PAGE_CHARS
    # A note counts as much as Slack shows of it (one section).
    assert paginate([PAGE_CHARS + 1] * 5) == [(0, 4), (4, 5)]
    assert paginate([]) == []


def test_pages_are_cut_the_same_from_the_listing_as_from_the_notes() -> None:
    lengths = [40, 3000, 2999, 5000, 12, 3000, 3000, 3000, 1, 800, 3000, 7]
    notes = [
        TimelineEntry(f"c{i}", "P", date(2026, 1, 1), "neutral", "U0A", "n" * n, False, "")
        for i, n in enumerate(lengths)
    ]
    from_notes = [cut_page(notes, p)[2] for p in range(cut_page(notes, 0)[1])]
    from_listing = [cut_page([listed(n) for n in notes], p)[2] for p in range(len(from_notes))]
    assert [[e.call_id for e in page] for page in from_notes] == [
        [c.call_id for c in page] for page in from_listing
    ]
    assert len(from_notes) > 1


def test_a_listed_call_reads_the_note_out_of_a_document_from_before_notes_stood_alone() -> None:
    old = "Sales call with James Okafor on 01 October 2026.\nOutcome: Positive.\nNote:\nHi."
    legacy = ListedCall("c1", "James Okafor", date(2026, 10, 1), "positive", "U0A", False, "", 70)
    assert legacy.with_note(old).note == "Hi."
    assert listed(ENTRIES[0]).with_note("Note:\nkept whole").note == "Note:\nkept whole"


def test_empty_timeline_says_no_calls_and_offers_each_suggestion() -> None:
    match = ProspectMatch("jmes", "jmes", "jmes", False, ["James Okafor", "James Oakes"])
    blocks = build_timeline_blocks(Timeline(match, []))
    assert "no calls logged" in blocks[0]["text"]["text"]
    suggestion_buttons = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert [b["value"] for b in suggestion_buttons] == ["James Okafor", "James Oakes"]
