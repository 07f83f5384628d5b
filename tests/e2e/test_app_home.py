"""App Home end to end: health from the latest brief, the digest's settings as controls, and
its buttons answering in the rep's DM (Home has no response URL)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.blocks import ids
from bot.calls import log_call
from bot.services import Services
from tests.e2e.conftest import RunningBot, start_bot
from tests.e2e.test_brief import GOOD_ANSWER, PRIYA_NOTES, call
from tests.support.blocks import render
from tests.support.fake_groq import FakeGroq
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.slack_requests import REP


@pytest.fixture
async def home_bot(fake_slack: FakeSlack, services_with_llm: Services) -> AsyncIterator[RunningBot]:
    for n, (day, outcome, note) in enumerate(PRIYA_NOTES):
        await log_call(services_with_llm, call("Priya Sharma", day, outcome, note, n))
    server, running = await start_bot(fake_slack, services_with_llm)
    yield running
    await server.close()


async def opened_home(bot: RunningBot) -> dict[str, Any]:
    before = len(bot.slack.called("views.publish"))
    await bot.send.event({"type": "app_home_opened", "user": REP, "tab": "home"})
    return (await bot.slack.wait_for("views.publish", before + 1))[-1]["view"]


async def test_home_shows_the_latest_briefs_health_and_its_brief_button_dms_it(
    home_bot: RunningBot, groq: FakeGroq
) -> None:
    assert "_No brief yet_" in render((await opened_home(home_bot))["blocks"])
    groq.script.append(("json", GOOD_ANSWER))
    await home_bot.send.command("/brief", "Priya Sharma")
    await home_bot.slack.wait_for("respond")

    home = render((await opened_home(home_bot))["blocks"])
    assert "`▰▰▰▰▰▰▰▱▱▱` *72* · Hot" in home and "brief of 20 Nov" in home
    assert "1 open commitment, next due 14 Nov" in home

    groq.script.append(("json", GOOD_ANSWER))
    before = len(home_bot.slack.called("chat.postMessage"))
    status, _ = await home_bot.send.home_action(
        {"action_id": f"{ids.OPEN_BRIEF_ACTION}_home", "value": "Priya Sharma"}
    )
    assert status == 200
    dm = (await home_bot.slack.wait_for("chat.postMessage", before + 1))[-1]
    assert dm["channel"] == REP and "72/100 · Hot" in render(dm["blocks"])


async def test_digest_settings_change_from_home_controls(home_bot: RunningBot) -> None:
    await home_bot.send.home_action(
        {
            "action_id": ids.HOME_DIGEST_DAY_ACTION,
            "type": "static_select",
            "selected_option": {"value": "thu"},
        }
    )
    await home_bot.slack.wait_for("views.publish")
    await home_bot.send.home_action(
        {
            "action_id": ids.HOME_DIGEST_HOUR_ACTION,
            "type": "static_select",
            "selected_option": {"value": "7"},
        }
    )
    await home_bot.slack.wait_for("views.publish", 2)
    setting = await home_bot.services.index.digest_setting(TEAM_ID, REP)
    assert setting is not None and (setting.day, setting.hour, setting.enabled) == ("thu", 7, True)
    await home_bot.send.home_action({"action_id": ids.HOME_DIGEST_TOGGLE_ACTION, "value": "off"})
    published = (await home_bot.slack.wait_for("views.publish", 3))[-1]["view"]
    assert "*Weekly digest:* *off*, Thursdays at 07:00" in render(published["blocks"])
    setting = await home_bot.services.index.digest_setting(TEAM_ID, REP)
    assert setting is not None and not setting.enabled

    # A forged value changes nothing.
    await home_bot.send.home_action(
        {
            "action_id": ids.HOME_DIGEST_HOUR_ACTION,
            "type": "static_select",
            "selected_option": {"value": "99"},
        }
    )
    again = await home_bot.services.index.digest_setting(TEAM_ID, REP)
    assert again == setting


async def test_a_failed_publish_is_logged_and_tried_again(home_bot: RunningBot) -> None:
    home_bot.slack.errors["views.publish"] = "internal_error"
    await home_bot.send.event({"type": "app_home_opened", "user": REP, "tab": "home"})
    await home_bot.slack.wait_for("views.publish", 3, timeout=30)
    assert all(
        json.dumps(c["view"]).count("Priya Sharma") for c in home_bot.slack.called("views.publish")
    )
