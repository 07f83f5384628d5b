import re
from datetime import date, timedelta
from typing import Any

import pytest

from bot.blocks import ids
from bot.blocks.limits import BUTTON_TEXT, BUTTON_VALUE, HEADER_TEXT, MESSAGE_BLOCKS, SECTION_TEXT
from bot.brief.answer import Brief, Claim, Commitment, DecisionMaker, Objection, brief_from_answer
from bot.brief.prepare import BriefResult
from bot.brief.view import build_brief_blocks
from bot.domain.deal_facts import BriefFacts, BriefNote
from bot.domain.prospect_lookup import ProspectMatch
from tests.unit.brief.samples import CLAIM_DAY, MENTIONS, TODAY, answer, commitment, objection

LONG = f"{MENTIONS} ".ljust(300, "z")
DATES = [TODAY - timedelta(days=7 * i) for i in range(6)]
SUGGESTIONS = ["James Okafor", "James Oakes", "Jamie " + "O" * 100]


def claims(detail: str = "") -> list[Claim]:
    return [Claim(LONG, day, detail) for day in DATES]


MODEL_BRIEF = Brief(
    score=72,
    label="Hot",
    momentum="improving",
    confidence="high",
    summary=f"{MENTIONS} " + "s" * 3000,
    objections=[
        Objection("pricing", LONG, day, day if i % 2 else None) for i, day in enumerate(DATES)
    ],
    budget_signals=claims(),
    competitors=claims(MENTIONS),
    decision_makers=[DecisionMaker(MENTIONS, "approver", LONG, day) for day in DATES],
    commitments=[Commitment("us", LONG, day, due=day) for day in DATES],
    risks=claims(),
    focus=claims(),
    recommended_action=Claim(LONG, DATES[0]),
)
# 40 notes of 3000 characters, one every 2 days, oldest first as select_notes returns them.
NOTES = [
    BriefNote(
        TODAY - timedelta(days=2 * i),
        "Objection raised",
        f"Note {i:02d} {MENTIONS} ".ljust(3000, "n"),
    )
    for i in reversed(range(40))
]
FACTS = BriefFacts(TODAY, 40, TODAY - timedelta(days=78), TODAY, 0, "Objection raised")
MATCH = ProspectMatch("james", "james-okafor", "James Okafor " + "Q" * 200, True, [])


def unknown(ambiguous: bool) -> BriefResult:
    match = ProspectMatch("jmes", "jmes", "jmes", False, SUGGESTIONS, ambiguous=ambiguous)
    return BriefResult(match, BriefFacts.from_timeline([], TODAY), [], choices=SUGGESTIONS)


ALL = {
    "model": build_brief_blocks(BriefResult(MATCH, FACTS, NOTES[-6:], brief=MODEL_BRIEF)),
    "memory_only": build_brief_blocks(
        BriefResult(MATCH, FACTS, NOTES, fallback_reason="the model timed out")
    ),
    "no_history": build_brief_blocks(unknown(ambiguous=False)),
    "ambiguous": build_brief_blocks(unknown(ambiguous=True)),
}


def nodes(node: Any) -> list[dict[str, Any]]:
    """Every dict anywhere in the blocks."""
    if isinstance(node, list):
        return [d for item in node for d in nodes(item)]
    if isinstance(node, dict):
        return [node, *(d for v in node.values() for d in nodes(v))]
    return []


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [n["text"] for n in nodes(blocks) if isinstance(n.get("text"), str)]


def sections(blocks: list[dict[str, Any]]) -> dict[str, str]:
    """Section texts by their first line (the bold title)."""
    found = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]
    return {text.split("\n", 1)[0]: text for text in found}


@pytest.mark.parametrize("case", list(ALL))
def test_every_brief_stays_within_block_kit_limits(case: str) -> None:
    blocks = ALL[case]
    assert len(blocks) <= MESSAGE_BLOCKS
    assert all(len(t) <= SECTION_TEXT for t in texts(blocks))
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= HEADER_TEXT
        fields = block.get("fields", [])
        assert len(fields) <= 10 and all(len(f["text"]) <= 2000 for f in fields)
    buttons = [n for n in nodes(blocks) if n.get("type") == "button"]
    assert buttons
    assert all(len(b["value"]) <= BUTTON_VALUE for b in buttons)
    assert all(len(b["text"]["text"]) <= BUTTON_TEXT for b in buttons)
    assert len({b["action_id"] for b in buttons}) == len(buttons)


@pytest.mark.parametrize("case", ["model", "memory_only"])
def test_mentions_and_links_in_notes_and_model_text_never_appear_raw(case: str) -> None:
    rendered = " ".join(texts(ALL[case]))
    for raw in ["<!channel>", "<@U1>", "<https://x|y>"]:
        assert raw not in rendered
    assert "&lt;!channel&gt; &lt;@U1&gt; &lt;https://x|y&gt;" in rendered


def test_model_brief_shows_score_and_the_source_date_of_every_claim() -> None:
    blocks = ALL["model"]
    assert "72/100 · Hot" in " ".join(texts(blocks))
    expected = [f"{day:%d %b %Y}" for day in DATES]
    assert expected[0] == "10 Nov 2026"
    by_title = sections(blocks)
    for title in ["Budget signals", "Competitors", "Decision makers", "Risks", "Focus on"]:
        assert re.findall(r"_\((\d\d \w{3} \d{4})\)_", by_title[f"*{title}*"]) == expected
    assert by_title["*👉 Recommended next action*"].endswith("_(10 Nov 2026)_")


def test_claims_show_their_date_and_empty_lists_say_not_in_any_note() -> None:
    brief = brief_from_answer(answer(competitors=[], risks=[]), {TODAY - timedelta(days=7)})
    assert CLAIM_DAY == "2026-11-03"
    by_title = sections(build_brief_blocks(BriefResult(MATCH, FACTS, NOTES[-2:], brief=brief)))
    for title in ["Budget signals", "Decision makers", "Focus on"]:
        assert by_title[f"*{title}*"].endswith("_(03 Nov 2026)_")
    assert by_title["*Objections*"].endswith("_(raised 03 Nov 2026)_")
    for title in ["Competitors", "Risks"]:
        assert by_title[f"*{title}*"] == f"*{title}*\n_Not in any note._"


def test_memory_only_brief_is_labelled_unscored_and_newest_first() -> None:
    rendered = " ".join(texts(ALL["memory_only"]))
    assert "Memory-only brief" in rendered
    assert "the model timed out" in rendered
    assert "/100" not in rendered
    assert re.findall(r"Note (\d\d)", rendered) == [f"{i:02d}" for i in range(10)]
    assert "*10 Nov 2026* · Objection raised\nNote 00" in rendered
    assert "30 older note(s)" in rendered


def test_no_history_says_so_with_low_confidence() -> None:
    rendered = " ".join(texts(ALL["no_history"]))
    assert "No history yet" in rendered
    assert "*low*" in rendered
    assert "/100" not in rendered


@pytest.mark.parametrize("case", ["no_history", "ambiguous"])
def test_one_open_brief_button_per_suggestion_carrying_the_name(case: str) -> None:
    buttons = [n for n in nodes(ALL[case]) if n.get("type") == "button"]
    choices = [b for b in buttons if b["action_id"].startswith(ids.OPEN_BRIEF_ACTION)]
    assert [b["value"] for b in choices] == SUGGESTIONS
    assert [b["text"]["text"] for b in choices[:2]] == SUGGESTIONS[:2]


def test_objections_open_first_with_raised_date_then_resolved_with_both_dates() -> None:
    objections = [
        objection("pricing", "Too expensive", "2026-10-01", resolved="2026-11-03"),
        objection("security_compliance", "EU data residency", "2026-11-03"),
    ]
    dates = {date(2026, 10, 1), date(2026, 11, 3)}
    brief = brief_from_answer(answer(objections=objections), dates)
    text = sections(build_brief_blocks(BriefResult(MATCH, FACTS, NOTES[-2:], brief=brief)))[
        "*Objections*"
    ]
    assert text.split("\n")[1:] == [
        "• 🔴 *Security/compliance*: EU data residency _(raised 03 Nov 2026)_",
        "• ✅ ~Pricing~: Too expensive _(raised 01 Oct 2026, resolved 03 Nov 2026)_",
    ]


def test_decision_makers_show_role_and_authority() -> None:
    people = [
        {
            "name": "Sarah Lin",
            "role": "approver",
            "authority": "signs off on security",
            "source_date": CLAIM_DAY,
        },
        {"name": "Mike", "role": "unknown", "authority": "", "source_date": CLAIM_DAY},
    ]
    brief = brief_from_answer(answer(decision_makers=people), {date(2026, 11, 3)})
    text = sections(build_brief_blocks(BriefResult(MATCH, FACTS, NOTES[-2:], brief=brief)))[
        "*Decision makers*"
    ]
    assert text.split("\n")[1:] == [
        "• *Sarah Lin* · approver — signs off on security _(03 Nov 2026)_",
        "• *Mike* _(03 Nov 2026)_",
    ]


def test_commitments_say_who_promised_what_when_and_whether_it_is_late() -> None:
    promises = [
        commitment("us", "the migration plan", "2026-10-01", due="2026-10-15"),
        commitment("prospect", "the security questionnaire", "2026-11-03", due="2026-12-01"),
        commitment("us", "pricing", "2026-10-01"),
        commitment("us", "the ROI deck", "2026-10-01", done="2026-11-03"),
    ]
    brief = brief_from_answer(answer(commitments=promises), {date(2026, 10, 1), date(2026, 11, 3)})
    text = sections(build_brief_blocks(BriefResult(MATCH, FACTS, NOTES[-2:], brief=brief)))[
        "*Commitments*"
    ]
    assert FACTS.today == date(2026, 11, 10)
    assert text.split("\n")[1:] == [
        "• *You* promised the migration plan on 01 Oct 2026; ⚠️ overdue since 15 Oct 2026",
        "• *They* promised the security questionnaire on 03 Nov 2026; "
        "not done yet, due 01 Dec 2026",
        "• *You* promised pricing on 01 Oct 2026; not done yet",
        "_1 kept (latest 03 Nov 2026)._",
    ]
