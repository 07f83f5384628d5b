"""manifest.yml declares what the app really answers, with the scopes it really uses."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.e2e.conftest import RunningBot

MANIFEST = yaml.safe_load((Path(__file__).parents[2] / "manifest.yml").read_text())


async def test_every_declared_command_is_answered_by_the_app(bot: RunningBot) -> None:
    declared = [c["command"] for c in MANIFEST["features"]["slash_commands"]]
    assert sorted(declared) == [
        "/ask",
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
        "message.im",
        "assistant_thread_started",
        "assistant_thread_context_changed",
    ]
    assert MANIFEST["features"]["assistant_view"]["assistant_description"]


def test_manifest_asks_only_for_the_scopes_the_bot_uses() -> None:
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == {
        "commands",
        "chat:write",
        "im:write",
        "users:read",
        "usergroups:read",
        "im:history",
        "assistant:write",
    }


async def test_every_declared_event_is_answered_by_the_app(bot: RunningBot) -> None:
    """Bolt answers 404 to an event no listener or middleware takes."""
    thread = {"channel_id": "D0PANE", "thread_ts": "1.0", "user_id": "U0REP", "context": {}}
    samples = {
        "app_home_opened": {"type": "app_home_opened", "user": "U0REP", "tab": "home"},
        "user_change": {"type": "user_change", "user": {"id": "U0REP", "tz": "UTC"}},
        "message.im": {
            "type": "message",
            "channel_type": "im",
            "channel": "D0REP",
            "user": "U0REP",
            "text": "",
            "ts": "1.1",
        },
        "assistant_thread_started": {
            "type": "assistant_thread_started",
            "assistant_thread": thread,
        },
        "assistant_thread_context_changed": {
            "type": "assistant_thread_context_changed",
            "assistant_thread": thread,
        },
    }
    assert sorted(samples) == sorted(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    for name, event in samples.items():
        status, _ = await bot.send.event(event)
        assert status == 200, name
    status, _ = await bot.send.event({"type": "reaction_added", "user": "U0REP"})
    assert status == 404


def test_both_manifests_declare_the_same_app() -> None:
    http = yaml.safe_load((Path(__file__).parents[2] / "manifest.http.yml").read_text())
    assert http["oauth_config"] == MANIFEST["oauth_config"]
    assert (
        http["settings"]["event_subscriptions"]["bot_events"]
        == (MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    )
    assert http["features"]["assistant_view"] == MANIFEST["features"]["assistant_view"]
    assert [c["command"] for c in http["features"]["slash_commands"]] == [
        c["command"] for c in MANIFEST["features"]["slash_commands"]
    ]
