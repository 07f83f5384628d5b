"""manifest.yml declares what the app really answers, with the scopes it really uses."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.e2e.conftest import RunningBot

MANIFEST = yaml.safe_load((Path(__file__).parents[2] / "manifest.yml").read_text())


async def test_every_declared_command_is_answered_by_the_app(bot: RunningBot) -> None:
    declared = [c["command"] for c in MANIFEST["features"]["slash_commands"]]
    assert sorted(declared) == [
        "/brief",
        "/digest",
        "/followup",
        "/forget",
        "/log",
        "/salesmemory",
        "/team",
        "/timeline",
    ]
    for command in declared:
        status, _ = await bot.send.command(command, "")
        assert status == 200, command
    # Bolt answers 404 to a command no listener handles: the check above would catch a gap.
    status, _ = await bot.send.command("/undeclared", "")
    assert status == 404


async def test_every_declared_shortcut_is_answered_by_the_app(bot: RunningBot) -> None:
    declared = [(s["type"], s["callback_id"]) for s in MANIFEST["features"]["shortcuts"]]
    assert declared == [("message", "log_from_message")]
    for _, callback_id in declared:
        status, _ = await bot.send.message_shortcut(callback_id, {"text": "Sarah Chen: SOC2."})
        assert status == 200, callback_id
    status, _ = await bot.send.message_shortcut("undeclared", {"text": "x"})
    assert status == 404


def test_manifest_enables_socket_mode_interactivity_and_the_app_home() -> None:
    assert MANIFEST["settings"]["socket_mode_enabled"] is True
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert MANIFEST["features"]["app_home"]["messages_tab_enabled"] is True
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True
    assert MANIFEST["settings"]["event_subscriptions"]["bot_events"] == [
        "app_home_opened",
        "user_change",
    ]


def test_manifest_asks_only_for_the_scopes_the_bot_uses() -> None:
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == {
        "commands",
        "chat:write",
        "im:write",
        "users:read",
        "usergroups:read",
    }
