from dataclasses import replace
from typing import Any

from bot.blocks.messages import build_log_confirmation
from bot.calls import LogResult
from tests.unit.factories import CALL


def body(blocks: list[dict[str, Any]]) -> str:
    return str(blocks[0]["text"]["text"])


def test_stored_confirmation_names_prospect_and_outcome_label() -> None:
    text, blocks = build_log_confirmation(LogResult(CALL, stored=True, duplicate=False))
    for shown in (text, body(blocks)):
        assert "James Okafor" in shown
        assert "Pilot / trial agreed" in shown


def test_not_stored_confirmation_says_the_call_is_kept_and_not_lost() -> None:
    _, blocks = build_log_confirmation(LogResult(CALL, stored=False, duplicate=False))
    shown = body(blocks)
    assert "James Okafor" in shown
    assert "kept here" in shown
    assert "nothing you typed is lost" in shown


def test_prospect_mention_is_escaped_in_the_message_body() -> None:
    call = replace(CALL, prospect="Eve <!here>")
    for stored in (True, False):
        _, blocks = build_log_confirmation(LogResult(call, stored=stored, duplicate=False))
        assert "<!here>" not in body(blocks)
        assert "Eve &lt;!here&gt;" in body(blocks)
