from dataclasses import replace
from typing import Any

from bot.log.view import NOW_STORED, STORED, WAITING, build_log_confirmation
from tests.unit.factories import CALL


def body(blocks: list[dict[str, Any]]) -> str:
    return str(blocks[0]["text"]["text"])


def test_stored_confirmation_names_prospect_and_outcome_label() -> None:
    text, blocks = build_log_confirmation(CALL, STORED)
    for shown in (text, body(blocks)):
        assert "James Okafor" in shown
        assert "Pilot / trial agreed" in shown


def test_waiting_confirmation_says_the_call_is_saved_and_not_lost() -> None:
    _, blocks = build_log_confirmation(CALL, WAITING)
    shown = body(blocks)
    assert "James Okafor" in shown
    assert "saved here" in shown
    assert "nothing you typed is lost" in shown


def test_now_stored_notice_says_the_waiting_call_reached_memory() -> None:
    text, blocks = build_log_confirmation(CALL, NOW_STORED)
    assert "now in memory" in text
    assert "reached memory" in body(blocks)


def test_prospect_mention_is_escaped_in_text_and_body() -> None:
    call = replace(CALL, prospect="Eve <!here>")
    for kind in (STORED, WAITING, NOW_STORED):
        text, blocks = build_log_confirmation(call, kind)
        for shown in (text, body(blocks)):
            assert "<!here>" not in shown
            assert "Eve &lt;!here&gt;" in shown
