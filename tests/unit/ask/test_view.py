from datetime import date

from bot.ask.answer import AskAnswer, Cited, Source
from bot.ask.period import Period
from bot.ask.scope import Scope
from bot.ask.view import answer_text, build_answer_blocks, too_long_text, usage_text
from bot.blocks import ids
from bot.blocks.limits import MESSAGE_BLOCKS, SECTION_TEXT
from memory.index import KnownProspect
from tests.support.blocks import buttons, render


def _prospect(n: int) -> KnownProspect:
    return KnownProspect(f"p-{n}", f"Prospect {n} <!here>", "Acme", date(2026, 11, 1), 2)


PIPELINE = [_prospect(n) for n in range(60)]


def _source(n: int, text: str = "Budget frozen until Q3 <@U123>.") -> Source:
    p = PIPELINE[n % len(PIPELINE)]
    return Source(
        f"n{n + 1}", f"c{n}", p.slug, p.name, p.company, date(2026, 10, 14), "Meeting", text
    )


def _scope(**kwargs: object) -> Scope:
    return Scope(None, PIPELINE, **kwargs)  # type: ignore[arg-type]


def _mrkdwn(blocks: list[dict[str, object]]) -> list[object]:
    found: list[object] = []
    for block in blocks:
        for part in [block.get("text"), *block.get("elements", [])]:  # type: ignore[list-item]
            if isinstance(part, dict) and part.get("type") == "mrkdwn":
                found.append(part["text"])
    return found


def _within_limits(blocks: list[dict[str, object]]) -> None:
    assert len(blocks) <= MESSAGE_BLOCKS
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict):
            assert len(text["text"]) <= SECTION_TEXT
        if block["type"] == "context":
            assert len(block["elements"]) <= 10  # type: ignore[arg-type]
    action_ids = [b["action_id"] for b in buttons(blocks)]  # type: ignore[arg-type]
    assert len(action_ids) == len(set(action_ids))


def test_a_long_answer_with_many_sources_stays_inside_block_kit() -> None:
    sources = [_source(n, "word " * 400) for n in range(80)]
    sentences = [Cited("x " * 2000, tuple(sources[i : i + 4])) for i in range(0, 80, 4)]
    answer = AskAnswer("q", _scope(), sentences, sources)
    blocks = build_answer_blocks(answer)
    _within_limits(blocks)
    assert "*Sources*" in render(blocks)


def test_every_text_is_escaped() -> None:
    cited = Cited("Reply <!channel> now.", (_source(0),))
    blocks = build_answer_blocks(AskAnswer("<!everyone> why?", _scope(), [cited], [_source(0)]))
    # Only mrkdwn can ping; plain text and button values are shown as typed.
    marked = render(_mrkdwn(blocks))
    for ping in ("<!channel>", "<!here>", "<@U123>", "<!everyone>"):
        assert ping not in marked
    assert "Prospect 0 &lt;!here&gt; · 14 Oct" in marked
    assert answer_text(AskAnswer("q", _scope(), [cited], [_source(0)])) == (
        "Reply &lt;!channel&gt; now."
    )


def test_the_verbatim_fallback_is_labelled_and_has_no_feedback() -> None:
    sources = [_source(n) for n in range(20)]
    answer = AskAnswer(
        "q",
        _scope(period=Period(date(2026, 11, 1), date(2026, 11, 20), "this month")),
        sources=sources,
        fallback_reason="rate limited",
    )
    blocks = build_answer_blocks(answer)
    _within_limits(blocks)
    rendered = render(blocks)
    assert "What memory holds" in rendered and "rate limited" in rendered
    assert "1 Nov 2026 – 20 Nov 2026" in rendered
    assert rendered.count("Budget frozen until Q3") == 8  # the best few, not all 20
    assert ids.ASK_FEEDBACK_ACTION not in rendered
    assert answer_text(answer) == "What memory holds about your question"


def test_nothing_found_choices_and_an_empty_pipeline() -> None:
    assert "holds nothing" in render(
        build_answer_blocks(AskAnswer("q", _scope(), answer_found=False))
    )
    choices = build_answer_blocks(AskAnswer("q", _scope(choices=["James Lee", "James Okafor"])))
    assert "fits several prospects: James Lee, James Okafor" in render(choices)
    empty = build_answer_blocks(AskAnswer("q", Scope(None, [])))
    assert "/log" in render(empty)


def test_usage_and_the_refusal_give_the_question_back() -> None:
    assert "/ask which of my deals raised SOC2 this month?" in usage_text()
    question = "why `so` <b> " * 300
    refused = too_long_text(question)
    assert "3,900 characters" in refused and "2,000 at most" in refused
    assert "why 'so' &lt;b&gt;" in refused and "`so`" not in refused
