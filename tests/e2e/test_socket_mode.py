"""With SLACK_APP_TOKEN set the bot connects over Socket Mode and answers through it."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import aiohttp

from bot.config import load_settings
from bot.serve import serve
from memory.embedded import free_port
from tests.support.fake_slack import TEAM_ID, FakeSlack


async def test_socket_mode_connects_acks_a_slash_command_and_serves_health(
    fake_slack: FakeSlack, hindsight_access: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_APP_TOKEN": "xapp-test",
            "SLACK_API_URL": fake_slack.api_url,
            **hindsight_access,
            "SALESMEMORY_HOME": str(tmp_path),
            "PORT": str(port),
        }
    )
    stop = asyncio.Event()
    bot = asyncio.create_task(serve(settings, stop))
    try:
        await fake_slack.send_envelope(
            {
                "envelope_id": "env-1",
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": {
                    "command": "/timeline",
                    "text": "",
                    "team_id": TEAM_ID,
                    "user_id": "U0REP1",
                    "channel_id": "C0CHAN",
                    "trigger_id": "t1",
                    "response_url": fake_slack.response_url(),
                    "api_app_id": "A0APP",
                },
            }
        )
        for _ in range(200):
            if fake_slack.socket_acks:
                break
            await asyncio.sleep(0.05)
        ack = fake_slack.socket_acks[0]
        assert ack["envelope_id"] == "env-1"
        assert "Usage: `/timeline <prospect name>`" in ack["payload"]["text"]
        assert fake_slack.called("apps.connections.open")
        # What start-up made is out of the collector's reach (no 90 ms pause in a burst).
        assert gc.get_freeze_count() > 0
        # Health checks are served in Socket Mode too.
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/readyz") as response,
        ):
            assert response.status == 200
            assert (await response.json())["memory"] is True
    finally:
        stop.set()
        await asyncio.wait_for(bot, timeout=30)
