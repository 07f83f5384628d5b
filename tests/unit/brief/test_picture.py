"""The README's picture of a brief says what the brief view says, and stays drawable."""

import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.brief.prepare import BriefResult
from bot.brief.view import build_brief_blocks
from bot.domain.deal_facts import BriefFacts
from bot.domain.prospect_lookup import ProspectMatch
from tests.support.block_picture import WIDTH, Picture, readable, render_message
from tests.support.sample_brief import TODAY, sample_brief_blocks, sample_brief_result

README_PICTURE = Path(__file__).parents[3] / "docs" / "brief.png"


def text_objects(node: Any) -> list[dict[str, Any]]:
    """Every Block Kit text object, in the order a reader meets them."""
    if isinstance(node, list):
        return [t for item in node for t in text_objects(item)]
    if not isinstance(node, dict):
        return []
    own = [node] if node.get("type") in ("plain_text", "mrkdwn") else []
    return own + [t for value in node.values() for t in text_objects(value)]


def words(text: str) -> str:
    return " ".join(text.split())


def assert_drawn_in_order(drawn: str, blocks: list[dict[str, Any]]) -> None:
    position = 0
    for text in text_objects(blocks):
        expected = words(readable(text["text"], mrkdwn=text["type"] == "mrkdwn"))
        found = drawn.find(expected, position)
        assert found >= 0, f"not drawn after character {position}: {expected!r}"
        position = found + len(expected)


@pytest.fixture(scope="module")
def blocks() -> list[dict[str, Any]]:
    return sample_brief_blocks()


@pytest.fixture(scope="module")
def picture(blocks: list[dict[str, Any]]) -> Picture:
    return render_message(blocks)


def test_the_sample_is_a_full_model_brief_with_every_kind_of_block(
    blocks: list[dict[str, Any]], picture: Picture
) -> None:
    assert {b["type"] for b in blocks} == {"header", "section", "context", "divider", "actions"}
    assert any("fields" in b for b in blocks)
    assert blocks[0]["text"]["text"] == "Brief · Priya Sharma"
    # Went through the answer's checks: the label follows the score, claims keep their dates.
    drawn = words(" ".join(picture.lines))
    assert "68/100 · Hot" in drawn
    assert "Daniel Cho · decision maker — CFO, signs anything over $50k (28 Oct 2026)" in drawn
    assert "⚠ overdue since 05 Nov 2026" in drawn


def test_every_text_of_the_brief_is_drawn_readable_and_in_order(
    blocks: list[dict[str, Any]], picture: Picture
) -> None:
    drawn = words(" ".join(picture.lines))
    assert drawn.startswith("SalesMemory APP 9:41 AM Brief · Priya Sharma")
    assert_drawn_in_order(drawn, blocks)
    for marker in ["*", "_(", "&lt;", "&amp;", "🔴", "⚠️"]:
        assert marker not in drawn
    assert picture.lines[-3:] == ["Log a call", "Draft follow-up", "Timeline"]


def other_briefs() -> dict[str, BriefResult]:
    """The brief's other shapes, with every emoji the view can send."""
    result = sample_brief_result()
    waiting = replace(result.notes[-1], waiting=True)
    names = ["Priya Sharma", "Priya Patel"]
    unknown = ProspectMatch("priy", "priy", "priy", False, names)
    nothing = BriefFacts.from_timeline([], TODAY)
    return {
        "memory_only": replace(
            result, brief=None, fallback_reason="the model timed out", notes=[waiting]
        ),
        "teammates": replace(result, facts=replace(result.facts, teammates=3)),
        "no_history": BriefResult(unknown, nothing, [], choices=names),
        "ambiguous": BriefResult(replace(unknown, ambiguous=True), nothing, [], choices=names),
    }


@pytest.mark.parametrize("case", ["memory_only", "teammates", "no_history", "ambiguous"])
def test_every_other_shape_of_brief_is_drawn_in_order(case: str) -> None:
    blocks = build_brief_blocks(other_briefs()[case])
    picture = render_message(blocks)
    assert_drawn_in_order(words(" ".join(picture.lines)), blocks)


def test_mrkdwn_is_made_readable() -> None:
    text = "• 🔴 *Pricing*: &lt;b&gt; &amp; `code` ~old~ <https://x.io|docs> _(03 Nov 2026)_"
    assert readable(text) == "• ● Pricing: <b> & code old docs (03 Nov 2026)"
    assert readable("🆕 Since *then*") == "NEW Since then"
    assert readable("👥 3 calls by teammates") == "3 calls by teammates"
    assert readable("*not mrkdwn*", mrkdwn=False) == "*not mrkdwn*"


def test_a_character_the_fonts_lack_is_an_error_not_an_empty_box() -> None:
    block = {"type": "section", "text": {"type": "mrkdwn", "text": "A new emoji 🦄"}}
    with pytest.raises(ValueError, match="no glyph"):
        render_message([block])


def test_a_block_the_picture_cannot_draw_is_an_error() -> None:
    with pytest.raises(ValueError, match="cannot draw a image block"):
        render_message([{"type": "image", "image_url": "https://x.io/a.png", "alt_text": "a"}])


def test_the_script_writes_the_png_the_renderer_draws(tmp_path: Path, picture: Picture) -> None:
    out = tmp_path / "brief.png"
    run = [sys.executable, "-m", "tests.support.block_picture", str(out)]
    subprocess.run(run, check=True, capture_output=True, cwd=README_PICTURE.parents[1])
    with Image.open(out) as image:
        assert image.format == "PNG"
        assert image.size == (WIDTH, picture.image.height)
        assert image.text["Description"] == "\n".join(picture.lines)
    help_text = subprocess.run(
        [*run[:3], "--help"],
        check=True,
        capture_output=True,
        text=True,
        cwd=README_PICTURE.parents[1],
    ).stdout
    assert "brief" in help_text and "PNG" in help_text


def test_the_readme_picture_shows_what_the_view_builds_today(picture: Picture) -> None:
    """Redraw it with `python -m tests.support.block_picture docs/brief.png` when this fails."""
    with Image.open(README_PICTURE) as image:
        assert image.width == WIDTH
        # Compared as words, so a font that wraps a line elsewhere does not matter.
        assert words(image.text["Description"]) == words(" ".join(picture.lines))
    assert README_PICTURE.stat().st_size < 300_000
