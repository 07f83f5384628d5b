"""App Home end to end: health from the latest brief, the digest's settings as controls, and
its buttons answering in the rep's DM (Home has no response URL)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest

from bot.blocks import ids
from bot.log.calls import log_call
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

    # A forged value changes nothing: Home is published again as the setting stands (the sign
    # that the listener ran).
    await home_bot.send.home_action(
        {
            "action_id": ids.HOME_DIGEST_HOUR_ACTION,
            "type": "static_select",
            "selected_option": {"value": "99"},
        }
    )
    republished = (await home_bot.slack.wait_for("views.publish", 4))[-1]["view"]
    assert "*Weekly digest:* *off*, Thursdays at 07:00" in render(republished["blocks"])
    again = await home_bot.services.index.digest_setting(TEAM_ID, REP)
    assert again == setting


async def test_a_failed_publish_is_logged_and_tried_again(home_bot: RunningBot) -> None:
    home_bot.slack.errors["views.publish"] = "internal_error"
    await home_bot.send.event({"type": "app_home_opened", "user": REP, "tab": "home"})
    await home_bot.slack.wait_for("views.publish", 3, timeout=30)
    assert all(
        json.dumps(c["view"]).count("Priya Sharma") for c in home_bot.slack.called("views.publish")
    )


def snooze_menu(choice: str, slug: str = "priya-sharma") -> dict[str, Any]:
    return {
        "action_id": ids.HOME_SNOOZE_ACTION,
        "block_id": f"{ids.HOME_PROSPECT_BLOCK}{slug}",
        "type": "overflow",
        "selected_option": {"value": choice},
    }


async def test_a_snoozed_prospect_is_listed_as_snoozed_in_the_digest_once(
    home_bot: RunningBot, groq: FakeGroq
) -> None:
    await home_bot.send.home_action(snooze_menu("7"))
    published = (await home_bot.slack.wait_for("views.publish"))[-1]["view"]
    assert "😴 snoozed until Fri 27 Nov" in render(published["blocks"])
    assert await home_bot.services.index.snoozed(TEAM_ID, REP, date(2026, 11, 20)) == {
        "priya-sharma": date(2026, 11, 27)
    }

    await home_bot.send.command("/digest", "")
    dm = (await home_bot.slack.wait_for("chat.postMessage"))[-1]
    text = render(dm["blocks"])
    assert text.count('"value": "Priya Sharma"') == 1  # listed once, with its brief button
    assert text.count("Snoozed until Fri 27 Nov") == 1
    assert groq.requests == []  # nothing left to rank: no question to the model

    await home_bot.send.home_action(snooze_menu("wake"))
    await home_bot.slack.wait_for("views.publish", 3)
    assert await home_bot.services.index.snoozed(TEAM_ID, REP, date(2026, 11, 20)) == {}


async def test_snooze_until_a_date_refuses_the_past_and_keeps_the_form(
    home_bot: RunningBot,
) -> None:
    await home_bot.send.home_action(snooze_menu("date"))
    modal = (await home_bot.slack.wait_for("views.open"))[-1]["view"]
    assert modal["private_metadata"] == "priya-sharma"

    def picked(day: str) -> dict[str, Any]:
        values = {ids.SNOOZE_DATE_BLOCK: {ids.SNOOZE_DATE_ACTION: {"selected_date": day}}}
        return {**modal, "state": {"values": values}}

    status, body = await home_bot.send.view_submission(picked("2026-11-01"), "V-SNOOZE")
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert "after today" in answer["errors"][ids.SNOOZE_DATE_BLOCK]
    assert await home_bot.services.index.snoozed(TEAM_ID, REP, date(2026, 11, 20)) == {}

    status, body = await home_bot.send.view_submission(picked("2026-12-24"), "V-SNOOZE")
    assert status == 200 and body == ""
    await home_bot.slack.wait_for("views.publish")  # stored after the ack; Home follows it
    assert await home_bot.services.index.snoozed(TEAM_ID, REP, date(2026, 11, 20)) == {
        "priya-sharma": date(2026, 12, 24)
    }


async def test_a_forged_snooze_changes_nothing(home_bot: RunningBot) -> None:
    await home_bot.send.home_action(snooze_menu("7", slug="nobody-known"))
    said = (await home_bot.slack.wait_for("chat.postMessage"))[-1]
    assert "out of date" in said["text"]
    assert await home_bot.services.index.snoozed(TEAM_ID, REP, date(2026, 11, 20)) == {}


async def test_admins_home_offers_the_team_view_and_its_button_dms_it(
    home_bot: RunningBot, fake_slack: FakeSlack
) -> None:
    assert "Team view" not in render((await opened_home(home_bot))["blocks"])
    # Made an admin: Slack's user_change event says so, and Home shows the button at once.
    fake_slack.admins.add(REP)
    made_admin = {"id": REP, "tz": "UTC", "is_admin": True, "is_owner": False}
    status, _ = await home_bot.send.event({"type": "user_change", "user": made_admin})
    assert status == 200
    for _ in range(20):  # the event is handled after its ack
        home = (await opened_home(home_bot))["blocks"]
        if "Team view" in render(home):
            break
        await asyncio.sleep(0.05)
    [team] = [b for b in home if b.get("accessory", {}).get("action_id") == ids.HOME_TEAM_ACTION]

    before = len(fake_slack.called("chat.postMessage"))
    await home_bot.send.home_action(team["accessory"])
    dm = (await fake_slack.wait_for("chat.postMessage", before + 1))[-1]
    assert dm["channel"] == REP and "Team view" in dm["text"]
    assert "Deals gone quiet, per rep" in render(dm["blocks"])

    # The button asks Slack afresh: someone no longer an admin is refused, in the DM.
    fake_slack.admins.discard(REP)
    await home_bot.send.home_action(team["accessory"])
    refused = (await fake_slack.wait_for("chat.postMessage", before + 2))[-1]
    assert "The team view is for workspace admins and owners" in refused["text"]
