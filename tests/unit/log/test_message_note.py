"""A Slack message made into a call note, without Slack."""

from __future__ import annotations

import pytest

from bot.log.form import MAX_NOTE, MAX_TRANSCRIPT
from bot.log.message_note import NothingToLog, named_prospect, note_from_message, readable

KNOWN = ["Sarah Chen", "Mike Reynolds", "José Álvarez"]


def test_slack_markup_is_made_readable() -> None:
    text = (
        "Call with <@U123|sarah> in <#C1|deals>: see <https://x.example/doc|the doc> and "
        "<mailto:a@b.example|a@b.example>, <!here> &amp; &lt;3"
    )
    assert readable(text) == (
        "Call with @sarah in #deals: see the doc (https://x.example/doc) and "
        "a@b.example (a@b.example), @here & <3"
    )


def test_the_one_prospect_the_text_names_is_chosen() -> None:
    assert named_prospect("Call with SARAH chen: budget is fine", KNOWN) == "Sarah Chen"
    assert named_prospect("jose alvarez wants a pilot", KNOWN) == "José Álvarez"
    assert named_prospect("Sarah Chen and Mike Reynolds both joined", KNOWN) is None
    assert named_prospect("Sarah said yes", KNOWN) is None  # half a name is not a name


def test_a_long_message_fills_note_then_transcript_and_counts_the_rest() -> None:
    words = " ".join(f"w{n:05d}" for n in range(1500))  # 10,499 characters
    made = note_from_message({"text": words}, KNOWN)
    assert len(made.note) <= MAX_NOTE and len(made.transcript) <= MAX_TRANSCRIPT
    assert (
        words.startswith(made.note)
        and made.transcript.split()[0] == "w" + f"{len(made.note.split()):05d}"
    )
    assert made.left_out == len(words) - len(made.note) - len(made.transcript) - 2
    short = note_from_message({"text": "Sarah Chen wants SOC2."}, KNOWN)
    assert (short.note, short.transcript, short.left_out) == ("Sarah Chen wants SOC2.", "", 0)
    assert short.prospect == "Sarah Chen"


@pytest.mark.parametrize(
    ("message", "says"),
    [
        ({"text": "", "files": [{"id": "F1", "name": "deck.pdf"}]}, "only holds files"),
        ({"text": "   "}, "no text I can log"),
        ({}, "no text I can log"),
    ],
)
def test_a_message_without_text_is_explained(message: dict, says: str) -> None:
    with pytest.raises(NothingToLog) as nothing:
        note_from_message(message, KNOWN)
    assert says in nothing.value.reason
