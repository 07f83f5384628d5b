""" "Log as call note" on any Slack message, end to end: the modal opens with the message as the
note, the prospect it names chosen, and the note in memory keeps the message's link."""

from __future__ import annotations

import asyncio
import json

from bot.blocks import ids
from tests.e2e.conftest import RunningBot
from tests.e2e.test_log_and_timeline import open_log_modal, submit
from tests.support.fake_slack import TEAM_ID


def element(view: dict, block_id: str) -> dict:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)["element"]


async def test_a_message_becomes_a_call_note_with_its_link(bot: RunningBot) -> None:
    # Sarah Chen is known: a call with her was logged before.
    view = await open_log_modal(bot, "Sarah Chen")
    assert await submit(bot, view, view_id="V-FIRST", prospect="Sarah Chen", note="Intro.") == {}
    await bot.slack.wait_for("chat.postMessage")

    text = "Quick call with <@U0SARAH|Sarah Chen>: SOC2 Type 2 passes; EU residency letter next."
    status, _ = await bot.send.message_shortcut(
        ids.LOG_FROM_MESSAGE_SHORTCUT, {"text": text, "ts": "1700000000.000100"}
    )
    assert status == 200
    opened = (await bot.slack.wait_for("views.open", 2))[-1]["view"]
    assert element(opened, ids.NOTE_BLOCK)["initial_value"] == (
        "Quick call with @Sarah Chen: SOC2 Type 2 passes; EU residency letter next."
    )
    assert element(opened, ids.PROSPECT_BLOCK)["initial_option"]["value"] == "Sarah Chen"
    # The message's link is asked of Slack once the form is open, and put in it (after the
    # form opened, so wait for it to be asked before comparing the order).
    await bot.slack.wait_for("chat.getPermalink")
    methods = [c.method for c in bot.slack.calls]
    assert methods.index("views.open") < methods.index("chat.getPermalink")
    # The first form was brought to the rep's zone too: wait for the update with the link.
    link = "https://test.slack.com/archives/C0DEALS/p1700000000000100"
    for _ in range(200):
        linked = [
            c["view"]
            for c in bot.slack.called("views.update")
            if json.loads(c["view"]["private_metadata"]).get("source")
        ]
        if linked:
            break
        await asyncio.sleep(0.05)
    [updated] = linked
    assert json.loads(updated["private_metadata"])["source"] == link

    answer = await submit(
        bot,
        updated,
        view_id="V-FROM-MSG",
        prospect="Sarah Chen",
        note=element(opened, ids.NOTE_BLOCK)["initial_value"],
        call_date="2026-11-19",
    )
    assert answer == {}
    await bot.slack.wait_for("chat.postMessage", 2)
    listed = await bot.services.memory.listed_calls(TEAM_ID, "sarah-chen")
    assert [c.metadata.get("source") for c in listed] == [link, None]


async def test_a_message_longer_than_the_note_loses_nothing(bot: RunningBot) -> None:
    words = " ".join(f"point{n:04d}" for n in range(800))  # about 7,200 characters
    await bot.send.message_shortcut(ids.LOG_FROM_MESSAGE_SHORTCUT, {"text": words})
    opened = (await bot.slack.wait_for("views.open"))[-1]["view"]
    note = element(opened, ids.NOTE_BLOCK)["initial_value"]
    transcript = element(opened, ids.TRANSCRIPT_BLOCK)["initial_value"]
    assert len(note) <= 3000 and len(transcript) <= 3000
    shown = note.split() + transcript.split()
    assert shown == words.split()[: len(shown)]
    notice = json.dumps(opened["blocks"][-1])
    left = len(words) - len(note) - len(transcript) - 2
    assert f"the last {left:,} characters are not in them" in notice
    assert "stay in the Slack message" in notice
    assert "initial_option" not in element(opened, ids.PROSPECT_BLOCK)  # it names nobody known


async def test_a_message_with_only_files_is_explained_and_opens_nothing(bot: RunningBot) -> None:
    await bot.send.message_shortcut(
        ids.LOG_FROM_MESSAGE_SHORTCUT, {"text": "", "files": [{"id": "F1", "name": "deck.pdf"}]}
    )
    said = (await bot.slack.wait_for("respond"))[-1]
    assert "only holds files" in said["text"] and said["response_type"] == "ephemeral"
    assert bot.slack.called("views.open") == []
