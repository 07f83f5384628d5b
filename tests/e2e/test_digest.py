"""/digest end to end: two reps, one Groq pass per rep, one DM, real Hindsight."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from bot.blocks import ids
from bot.log.calls import log_call
from bot.services import Services
from tests.e2e.conftest import RunningBot, start_bot
from tests.e2e.test_brief import call
from tests.support.blocks import buttons, render
from tests.support.fake_groq import FakeGroq
from tests.support.fake_slack import FakeSlack
from tests.support.rate_limit import PerSecondLimit
from tests.support.slack_requests import REP

OTHER_REP = "U0REP2"
MINE = {
    "James Okafor": (date(2026, 11, 13), "no_response", "Sent the security report; silence."),
    "Marcus Webb": (date(2026, 11, 18), "positive", "Wants a lunch-and-learn for 8 reps."),
    "Anika Patel": (date(2026, 11, 16), "neutral", "Legal is reviewing the DPA."),
}
THEIRS = {"Sarah Linden": (date(2026, 11, 17), "positive", "Pricing for 10 seats.")}

ANSWER: dict[str, Any] = {
    "needs_attention": [
        {
            "name": "James Okafor",
            "reason": "7 days of silence after the security report.",
            "action": "Call James and answer Stripe's pricing head-on.",
        },
        {
            "name": "Marcus Webb",
            "reason": "You owe him the lunch-and-learn.",
            "action": "Book the lunch-and-learn for his 8 reps today.",
        },
    ],
    "follow_up": [],
    "on_track": [
        {
            "name": "Anika Patel",
            "reason": "Legal is reviewing the DPA.",
            "action": "Nothing until legal answers.",
        },
    ],
}


@pytest.fixture
async def digest_bot(
    fake_slack: FakeSlack, services_with_llm: Services
) -> AsyncIterator[RunningBot]:
    with_llm = services_with_llm
    n = 0
    for rep, prospects in ((REP, MINE), (OTHER_REP, THEIRS)):
        for name, (day, outcome, note) in prospects.items():
            n += 1
            await log_call(with_llm, replace(call(name, day, outcome, note, n), rep_id=rep))
    server, running = await start_bot(fake_slack, with_llm)
    yield running
    await server.close()


async def test_digest_ranks_only_the_reps_prospects_in_one_pass_and_dms_it(
    digest_bot: RunningBot, groq: FakeGroq
) -> None:
    groq.script.append(("json", ANSWER))
    status, ack = await digest_bot.send.command("/digest")
    assert status == 200 and "Ranking your pipeline" in ack
    reply = (await digest_bot.slack.wait_for("respond"))[-1]
    assert "in your DMs" in reply["text"]

    assert len(groq.requests) == 1
    prompt = groq.user_prompt()
    for name, (_, _, note) in MINE.items():
        assert name in prompt and note in prompt
    assert "Sarah Linden" not in prompt and "Pricing for 10 seats" not in prompt
    assert '"days_of_silence":7' in prompt
    assert groq.requests[0]["response_format"]["json_schema"]["strict"] is True

    assert [c["users"] for c in digest_bot.slack.called("conversations.open")] == [REP]
    dms = digest_bot.slack.called("chat.postMessage")
    assert len(dms) == 1 and dms[0]["channel"] == f"D{REP}"
    shown = render(dms[0]["blocks"])
    needs = shown.index("Needs attention now")
    follow = shown.index("Follow up this week")
    on_track = shown.index("On track")
    assert needs < shown.index("James Okafor") < shown.index("Marcus Webb") < follow
    assert follow < on_track < shown.index("Anika Patel")
    assert "Book the lunch-and-learn for his 8 reps today." in shown
    brief_buttons = buttons(dms[0]["blocks"])
    assert sorted(b["value"] for b in brief_buttons) == sorted(MINE)
    assert all(b["action_id"].startswith(ids.OPEN_BRIEF_ACTION) for b in brief_buttons)


async def test_groq_failure_gives_a_digest_ordered_by_facts(
    digest_bot: RunningBot, groq: FakeGroq
) -> None:
    groq.script.extend([("status", 500)])
    await digest_bot.send.command("/digest")
    await digest_bot.slack.wait_for("respond")
    shown = render(digest_bot.slack.called("chat.postMessage")[0]["blocks"])
    assert "Ordered by the facts in memory" in shown
    # James: 7 days after "No response" -> needs attention; the others follow up.
    assert shown.index("Needs attention now") < shown.index("James Okafor")
    assert shown.index("James Okafor") < shown.index("Follow up this week")
    for name in MINE:
        assert shown.count(f"*{name}*") == 1


async def test_rep_with_no_prospects_gets_a_log_your_first_call_dm(
    digest_bot: RunningBot, groq: FakeGroq
) -> None:
    await digest_bot.send.command("/digest", user="U0NEWREP")
    await digest_bot.slack.wait_for("respond")
    dm = digest_bot.slack.called("chat.postMessage")[0]
    assert dm["channel"] == "DU0NEWREP"
    assert "Log your first call" in dm["text"]
    assert groq.requests == []


async def test_a_rep_who_left_gets_no_digest(digest_bot: RunningBot, groq: FakeGroq) -> None:
    digest_bot.slack.gone_users.add(REP)
    await digest_bot.send.command("/digest")
    reply = (await digest_bot.slack.wait_for("respond"))[-1]
    assert "not active" in reply["text"]
    assert digest_bot.slack.called("chat.postMessage") == []


async def test_first_logged_call_schedules_the_rep_and_settings_change_it(bot: RunningBot) -> None:
    from tests.e2e.test_log_and_timeline import open_log_modal, submit
    from tests.support.fake_slack import TEAM_ID

    bot.slack.timezones[REP] = "Europe/London"
    view = await open_log_modal(bot, "Marcus Webb")
    await submit(bot, view, prospect="Marcus Webb", note="Budget confirmed for Q4.")
    await bot.slack.wait_for("chat.postMessage")
    setting = await bot.services.index.digest_setting(TEAM_ID, REP)
    assert setting is not None
    assert (setting.tz, setting.day, setting.hour, setting.enabled) == (
        "Europe/London",
        "mon",
        8,
        True,
    )

    await bot.send.command("/digest", "settings tue 9")
    reply = (await bot.slack.wait_for("respond"))[-1]["text"]
    assert "Tuesdays at 09:00 (Europe/London)" in reply and "Next one: Tue 24 Nov 09:00" in reply
    await bot.send.command("/digest", "off")
    reply = (await bot.slack.wait_for("respond", 2))[-1]["text"]
    assert "*off*" in reply
    setting = await bot.services.index.digest_setting(TEAM_ID, REP)
    assert setting is not None and (setting.day, setting.hour, setting.enabled) == (
        "tue",
        9,
        False,
    )

    status, body = await bot.send.command("/digest", "settings funday 9")
    assert status == 200 and "like `/digest settings tue 9`" in body


async def test_slack_429_is_waited_out_and_the_digest_still_arrives(
    digest_bot: RunningBot, groq: FakeGroq
) -> None:
    groq.script.append(("json", ANSWER))
    digest_bot.slack.limit = PerSecondLimit(1)  # users.info, conversations.open, postMessage…
    await digest_bot.send.command("/digest")
    reply = (await digest_bot.slack.wait_for("respond", timeout=30))[-1]
    assert "in your DMs" in reply["text"]
    assert digest_bot.slack.limit.refused > 0
    assert len(digest_bot.slack.called("chat.postMessage")) == 1
