"""The follow-up draft in Block Kit, built without Slack."""

from __future__ import annotations

import json
from datetime import date

from bot.blocks import ids
from bot.blocks.limits import BUTTON_VALUE, SECTION_TEXT
from bot.domain.prospect_lookup import ProspectMatch
from bot.followup.draft import Analysis, BlockerStage, Draft, FollowupResult
from bot.followup.view import build_followup_blocks
from tests.support.blocks import buttons, render

MATCH = ProspectMatch("mike reynolds", "mike-reynolds", "Mike Reynolds", True, [])
ANALYSIS = Analysis(
    blocker="<!channel> the EU guarantee",
    blocker_dates=(date(2026, 11, 10),),
    history=(
        BlockerStage("price", date(2026, 9, 29)),
        BlockerStage("compliance", date(2026, 10, 14)),
    ),
    decider="Sarah Chen",
    decider_role="approver",
    decider_authority="signs off on security",
    decider_date=date(2026, 10, 28),
    recipient="Sarah Chen",
    reason="She signs off.",
)


def test_a_draft_is_escaped_and_carries_its_buttons() -> None:
    body = "Hi Sarah,\n\n<@U123> the guarantee is on its way.\n\nBest,"
    result = FollowupResult(
        MATCH, True, ANALYSIS, Draft("Sarah Chen", "Guarantee", body, removed=2), style="formal"
    )
    blocks = build_followup_blocks(result)
    text = render(blocks)
    assert "<!channel>" not in text and "<@U123>" not in text
    assert "&lt;@U123&gt; the guarantee" in text and "2 sentences taken out" in text
    assert "price → compliance since 14 Oct" in text
    values = {b["text"]["text"]: json.loads(b["value"]) for b in buttons(blocks)}
    assert values["Shorter"] == {"p": "Mike Reynolds", "s": "shorter"}
    assert values["Regenerate"] == {"p": "Mike Reynolds", "s": "formal"}
    assert all(len(b["value"]) <= BUTTON_VALUE for b in buttons(blocks))
    assert all(len(b["text"]["text"]) <= SECTION_TEXT for b in blocks if b["type"] == "section")


def test_a_failed_draft_offers_the_brief_and_shows_no_email() -> None:
    blocks = build_followup_blocks(
        FollowupResult(MATCH, True, failure="the AI model could not be reached")
    )
    text = render(blocks)
    assert "could not be reached" in text and "Subject" not in text
    ids_shown = [b["action_id"] for b in buttons(blocks)]
    assert f"{ids.OPEN_BRIEF_ACTION}_followup" in ids_shown


def test_no_history_says_log_a_call_first_and_offers_the_close_names() -> None:
    blocks = build_followup_blocks(
        FollowupResult(MATCH, False, choices=["Mike Reyes", "Mika Reynolds"])
    )
    text = render(blocks)
    assert "log a call first" in text
    assert [json.loads(b["value"])["p"] for b in buttons(blocks)[:2]] == [
        "Mike Reyes",
        "Mika Reynolds",
    ]
