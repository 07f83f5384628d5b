"""`/digest` sub-commands: when and whether a rep's weekly digest arrives."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.blocks.limits import quote_input
from bot.digest.schedule import DAYS, next_digest_time
from bot.services import Services
from memory.index import DigestSetting, LocalIndex

DIGEST_HELP = (
    "`/digest` sends your digest now. `/digest settings` shows when it arrives; "
    "`/digest settings tue 9` moves it to Tuesdays at 09:00 your time; "
    "`/digest off` and `/digest on` stop and restart it."
)
_DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}


@dataclass(frozen=True)
class DigestCommand:
    kind: str  # "now", "show", "set", "on", "off"
    day: str | None = None
    hour: int | None = None


def parse_digest_command(text: str) -> DigestCommand | str:
    """The sub-command, or a message saying what was wrong (with the usage)."""
    words = text.lower().split()
    if not words:
        return DigestCommand("now")
    if words in (["on"], ["off"]):
        return DigestCommand(words[0])
    if words[0] != "settings":
        return f"I didn't understand “{quote_input(text)}”. {DIGEST_HELP}"
    if len(words) == 1:
        return DigestCommand("show")
    day = words[1][:3]
    if len(words) != 3 or day not in DAYS or not words[2].isascii() or not words[2].isdigit():
        return f"Use a day and an hour, like `/digest settings tue 9`. {DIGEST_HELP}"
    hour = int(words[2])
    if not 0 <= hour <= 23:
        return "The hour must be 0–23 (your own time), like `/digest settings mon 8`."
    return DigestCommand("set", day, hour)


async def enroll_rep(index: LocalIndex, workspace_id: str, rep_id: str, tz: str | None) -> None:
    """A rep is scheduled (Monday 08:00 their time) when they first log a call."""
    await index.save_digest_setting(
        DigestSetting(workspace_id, rep_id, tz or "UTC"), only_if_missing=True
    )


async def change_digest_setting(
    services: Services, workspace_id: str, rep_id: str, tz: str | None, **change: Any
) -> DigestSetting:
    """The rep's setting (Monday 08:00 in `tz` when they have none) with `change` applied and
    saved. A stored zone is kept: it follows the rep through Slack's `user_change` event, and
    a process's cached zone may be older than it."""
    index = services.index
    current = await index.digest_setting(workspace_id, rep_id) or DigestSetting(
        workspace_id, rep_id, tz or "UTC"
    )
    updated = replace(current, **change)
    if change:
        await index.save_digest_setting(updated)
    return updated


async def apply_digest_command(
    services: Services,
    workspace_id: str,
    rep_id: str,
    tz: str | None,
    command: DigestCommand,
    now: datetime,
) -> str:
    """Change (or show) the setting; the reply says when the next digest comes."""
    change: dict[str, Any] = {}
    if command.kind == "set":
        change = {"day": command.day, "hour": command.hour, "enabled": True}
    elif command.kind in ("on", "off"):
        change = {"enabled": command.kind == "on"}
    updated = await change_digest_setting(services, workspace_id, rep_id, tz, **change)
    if not updated.enabled:
        return "Your weekly digest is *off*. `/digest on` turns it back on."
    when = f"{_DAY_NAMES[updated.day]}s at {updated.hour:02d}:00 ({updated.tz})"
    upcoming = next_digest_time(updated, now)
    next_one = f" Next one: {upcoming:%a %d %b %H:%M}." if upcoming else ""
    return f"Your weekly digest arrives on {when}.{next_one}"
