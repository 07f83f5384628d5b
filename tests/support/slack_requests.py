"""Signed requests as Slack sends them to POST /slack/events."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp

from tests.support.fake_slack import TEAM_ID

SIGNING_SECRET = "test-signing-secret"
REP = "U0REP1"


def signed_headers(
    body: str,
    secret: str = SIGNING_SECRET,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, str]:
    timestamp = str(int(time.time()))
    base = f"v0:{timestamp}:{body}".encode()
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
        "Content-Type": content_type,
    }


class SlackSender:
    """Sends signed slash commands and interactivity payloads into the running app."""

    def __init__(self, events_url: str, response_url: Any) -> None:
        self.events_url = events_url
        self._response_url = response_url

    async def post(
        self,
        body: str,
        content_type: str = "application/x-www-form-urlencoded",
        extra_headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        headers = {**signed_headers(body, content_type=content_type), **(extra_headers or {})}
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.events_url, data=body, headers=headers) as response,
        ):
            return response.status, await response.text()

    async def event(self, event: dict[str, Any], team: str = TEAM_ID) -> tuple[int, str]:
        """An Events API callback, JSON as Slack sends it."""
        body = {
            "token": "legacy",
            "team_id": team,
            "api_app_id": "A0APP",
            "type": "event_callback",
            "event_id": f"Ev{time.monotonic_ns()}",
            "event_time": int(time.time()),
            "event": event,
        }
        return await self.post(json.dumps(body), content_type="application/json")

    async def command(
        self,
        command: str,
        text: str = "",
        user: str = REP,
        team: str = TEAM_ID,
        trigger_id: str | None = None,
        retry_num: int | None = None,
    ) -> tuple[int, str]:
        """A slash command; `retry_num` sends it as Slack's retry (X-Slack-Retry-Num)."""
        body = urlencode(
            {
                "token": "legacy",
                "team_id": team,
                "team_domain": "test",
                "channel_id": "C0CHAN",
                "channel_name": "general",
                "user_id": user,
                "user_name": "rep",
                "command": command,
                "text": text,
                "api_app_id": "A0APP",
                "response_url": self._response_url(),
                "trigger_id": trigger_id or f"trigger-{time.monotonic_ns()}",
            }
        )
        retry = (
            {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
            if retry_num
            else None
        )
        return await self.post(body, extra_headers=retry)

    async def interaction(self, payload: dict[str, Any]) -> tuple[int, str]:
        return await self.post(urlencode({"payload": json.dumps(payload)}))

    async def message_shortcut(
        self,
        callback_id: str,
        message: dict[str, Any],
        user: str = REP,
        team: str = TEAM_ID,
        channel: str = "C0DEALS",
    ) -> tuple[int, str]:
        """A message shortcut ("message_action") run on `message` in `channel`."""
        return await self.interaction(
            {
                "type": "message_action",
                "callback_id": callback_id,
                "team": {"id": team, "domain": "test"},
                "user": {"id": user, "team_id": team},
                "api_app_id": "A0APP",
                "channel": {"id": channel, "name": "deals"},
                "trigger_id": f"trigger-{time.monotonic_ns()}",
                "response_url": self._response_url(),
                "message_ts": message.get("ts", "1700000000.000100"),
                "message": {"type": "message", "ts": "1700000000.000100", **message},
            }
        )

    async def view_submission(
        self,
        view: dict[str, Any],
        view_id: str,
        user: str = REP,
        team: str = TEAM_ID,
        org_wide: bool = False,
    ) -> tuple[int, str]:
        """`org_wide`: as an org-wide install on Enterprise Grid sends it, with `team: null`."""
        return await self.interaction(
            {
                "type": "view_submission",
                "team": None if org_wide else {"id": team, "domain": "test"},
                "user": {"id": user, "team_id": team},
                "api_app_id": "A0APP",
                # Slack sends one with every submission; retries of it are claimed by it.
                "trigger_id": f"trigger-{time.monotonic_ns()}",
                "view": {**view, "id": view_id, "team_id": team},
            }
        )

    async def home_action(
        self, action: dict[str, Any], user: str = REP, team: str = TEAM_ID
    ) -> tuple[int, str]:
        """A button or menu on the App Home tab: Slack sends no response URL for those."""
        return await self.interaction(
            {
                "type": "block_actions",
                "team": {"id": team, "domain": "test"},
                "user": {"id": user, "team_id": team},
                "api_app_id": "A0APP",
                "trigger_id": f"trigger-{time.monotonic_ns()}",
                "container": {"type": "view", "view_id": "VHOME"},
                "view": {"id": "VHOME", "type": "home", "blocks": []},
                "actions": [{"block_id": "b", "type": "button", **action}],
            }
        )

    async def block_action(
        self,
        action_id: str,
        value: str,
        user: str = REP,
        team: str = TEAM_ID,
        element: dict[str, Any] | None = None,
    ) -> tuple[int, str]:
        """A button in a message (`element` replaces what the action carries: a menu's
        choice and block id)."""
        return await self.interaction(
            {
                "type": "block_actions",
                "team": {"id": team, "domain": "test"},
                "user": {"id": user, "team_id": team},
                "api_app_id": "A0APP",
                "trigger_id": f"trigger-{time.monotonic_ns()}",
                "response_url": self._response_url(),
                "container": {"type": "message", "message_ts": "1.1", "channel_id": "C0CHAN"},
                "channel": {"id": "C0CHAN"},
                "actions": [
                    element
                    or {"type": "button", "action_id": action_id, "value": value, "block_id": "b"}
                ],
            }
        )

    async def options(
        self, action_id: str, value: str, team: str = TEAM_ID, org_wide: bool = False
    ) -> tuple[int, str]:
        return await self.interaction(
            {
                "type": "block_suggestion",
                "team": None if org_wide else {"id": team, "domain": "test"},
                "user": {"id": REP, "team_id": team},
                "api_app_id": "A0APP",
                "action_id": action_id,
                "block_id": "prospect",
                "value": value,
                "view": {"id": "V0", "type": "modal", "callback_id": "log_call"},
            }
        )
