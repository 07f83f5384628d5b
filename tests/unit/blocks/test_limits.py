import re

import pytest

from bot.blocks.limits import escape_mrkdwn, truncate


@pytest.mark.parametrize("raw", ["<!channel>", "<@U123>", "<https://evil|click>"])
def test_escaped_mrkdwn_has_no_angle_brackets(raw: str) -> None:
    escaped = escape_mrkdwn(raw)
    assert "<" not in escaped
    assert ">" not in escaped
    assert escaped.startswith("&lt;")
    assert escaped.endswith("&gt;")


def test_ampersand_is_escaped_first_so_entities_are_not_doubled() -> None:
    assert escape_mrkdwn("R&D <b>") == "R&amp;D &lt;b&gt;"


def test_text_over_the_limit_is_cut_to_fit_with_an_ellipsis_and_short_text_is_kept() -> None:
    assert truncate("a" * 50, 10) == "a" * 9 + "…"
    assert truncate("abc", 3) == "abc"


@pytest.mark.parametrize("prefix", range(0, 12))
def test_truncate_never_cuts_inside_an_entity(prefix: int) -> None:
    text = "a" * prefix + escape_mrkdwn("<!channel>") + "b" * 20
    cut = truncate(text, 12)
    assert len(cut) <= 12
    assert cut.endswith("…")
    body = cut[:-1]
    assert text.startswith(body)
    assert "&" not in re.sub(r"&(lt|gt|amp);", "", body), body
