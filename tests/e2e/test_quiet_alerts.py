"""Quiet-deal alerts through the production path (Scheduler.run_alerts) at injected
instants: one batched DM per rep per working day at most, at 09:00 in their zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.scheduler import Scheduler
from bot.services import Services
from memory.index import DigestSetting
from memory.records import CallLog
from tests.e2e.conftest import start_bot
from tests.support.blocks import render
from tests.support.fake_slack import TEAM_ID, FakeSlack

PARIS_REP, TOKYO_REP = "U0PARIS", "U0TOKYO"
MONDAY_0905_PARIS = datetime(2026, 11, 23, 8, 5, tzinfo=UTC)


async def logged(services: Services, rep: str, prospect: str, days: list[date]) -> None:
    for n, day in enumerate(days):
        call = CallLog(
            call_id=f"call-{rep}-{prospect}-{n}",
            workspace_id=TEAM_ID,
            prospect=prospect,
            company=None,
            rep_id=rep,
            call_date=day,
            outcome="positive",
            note="n",
            transcript=None,
            logged_at=datetime(2026, 11, 1, tzinfo=UTC),
        )
        assert await services.index.record_delivered_call(call)


@pytest.fixture
async def scheduler(services: Services, fake_slack: FakeSlack, tmp_path: Path) -> Scheduler:
    for rep, tz in ((PARIS_REP, "Europe/Paris"), (TOKYO_REP, "Asia/Tokyo")):
        await services.index.save_digest_setting(DigestSetting(TEAM_ID, rep, tz))
    weekly = [date(2026, 10, 1) + timedelta(days=7 * n) for n in range(5)]  # last 29 Oct
    await logged(services, PARIS_REP, "Weekly Wendy", weekly)
    await logged(services, PARIS_REP, "Fresh Fred", [date(2026, 11, 20)])
    await logged(services, PARIS_REP, "Slow Sally", [date(2026, 10, 1)])
    await logged(services, TOKYO_REP, "Tokyo Taro", weekly)
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)
    return Scheduler(services, client, f"sqlite:///{tmp_path / 'jobs.db'}")


def dms(fake_slack: FakeSlack, rep: str) -> list[dict]:
    return [c for c in fake_slack.called("chat.postMessage") if c["channel"] == rep]


async def test_one_batched_alert_per_rep_per_working_day_at_nine_their_time(
    scheduler: Scheduler, fake_slack: FakeSlack
) -> None:
    assert await scheduler.run_alerts(MONDAY_0905_PARIS) == 1
    [alert] = dms(fake_slack, PARIS_REP)
    shown = render(alert["blocks"])
    assert "Weekly Wendy* — 25 days since the last call; usually every 7 days" in shown
    assert "Slow Sally* — 53 days" in shown and "Fresh Fred" not in shown
    assert dms(fake_slack, TOKYO_REP) == []  # 17:05 in Tokyo: not their hour

    # The same hour again (a second replica, a restart): nothing more.
    assert await scheduler.run_alerts(MONDAY_0905_PARIS + timedelta(minutes=20)) == 0
    assert len(dms(fake_slack, PARIS_REP)) == 1
    # The next working day, again once; the weekend, never.
    assert await scheduler.run_alerts(MONDAY_0905_PARIS + timedelta(days=1)) == 1
    assert await scheduler.run_alerts(datetime(2026, 11, 28, 8, 5, tzinfo=UTC)) == 0
    # Tokyo's 09:00 comes at 00:05 UTC.
    assert await scheduler.run_alerts(datetime(2026, 11, 24, 0, 5, tzinfo=UTC)) == 1
    assert "Tokyo Taro" in render(dms(fake_slack, TOKYO_REP)[0]["blocks"])


async def test_an_alert_slack_refused_is_sent_at_the_next_hour_and_only_once(
    scheduler: Scheduler, fake_slack: FakeSlack
) -> None:
    fake_slack.errors["chat.postMessage"] = "fatal_error"
    assert await scheduler.run_alerts(MONDAY_0905_PARIS) == 0
    assert len(dms(fake_slack, PARIS_REP)) == 1  # tried, refused
    del fake_slack.errors["chat.postMessage"]
    assert await scheduler.run_alerts(MONDAY_0905_PARIS + timedelta(hours=1)) == 1
    assert "Weekly Wendy" in render(dms(fake_slack, PARIS_REP)[-1]["blocks"])
    # Sent: the last hour of the morning sends nothing more, and noon is past the morning.
    assert await scheduler.run_alerts(MONDAY_0905_PARIS + timedelta(hours=2)) == 0
    assert len(dms(fake_slack, PARIS_REP)) == 2


async def test_snoozed_deals_and_reps_who_turned_alerts_off_get_nothing(
    scheduler: Scheduler, services: Services, fake_slack: FakeSlack
) -> None:
    await services.index.snooze(TEAM_ID, PARIS_REP, "weekly-wendy", date(2026, 12, 1))
    await scheduler.run_alerts(MONDAY_0905_PARIS)
    shown = render(dms(fake_slack, PARIS_REP)[0]["blocks"])
    assert "Weekly Wendy" not in shown and "Slow Sally" in shown

    await services.index.set_alerts(TEAM_ID, PARIS_REP, False)
    assert await scheduler.run_alerts(MONDAY_0905_PARIS + timedelta(days=1)) == 0
    await services.index.set_alerts(TEAM_ID, PARIS_REP, True)
    assert await scheduler.run_alerts(MONDAY_0905_PARIS + timedelta(days=2)) == 1


async def test_snoozing_from_the_alert_says_so_in_the_dm(
    scheduler: Scheduler, services: Services, fake_slack: FakeSlack
) -> None:
    await scheduler.run_alerts(MONDAY_0905_PARIS)
    [alert] = dms(fake_slack, PARIS_REP)
    [row] = [b for b in alert["blocks"] if b.get("block_id") == "p:weekly-wendy"]
    menu = next(e for e in row["elements"] if e["type"] == "overflow")
    server, bot = await start_bot(fake_slack, services)
    try:
        chosen = {**menu, "block_id": row["block_id"], "selected_option": {"value": "14"}}
        await bot.send.block_action(menu["action_id"], "", user=PARIS_REP, element=chosen)
        said = (await fake_slack.wait_for("respond"))[-1]
        assert said["text"] == "Weekly Wendy: Snoozed until Fri 04 Dec."
    finally:
        await server.close()
    assert await services.index.snoozed(TEAM_ID, PARIS_REP, date(2026, 11, 20)) == {
        "weekly-wendy": date(2026, 12, 4)
    }
