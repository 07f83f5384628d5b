"""A Slack message made into a call note ("Log as call note", the message shortcut).

The message's text becomes the note, up to the note field's limit; the rest goes to the
transcript field; a message longer than both together keeps its link, so nothing is out of
reach. Slack's markup is made readable (mentions, channel names, links). The prospect is
pre-selected when the text names exactly one known prospect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.log.form import MAX_NOTE, MAX_TRANSCRIPT
from memory.prospects import prospect_slug

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]+))?>")
_CHANNEL = re.compile(r"<#C[A-Z0-9]+\|([^>]*)>")
_LABELLED_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)\|([^>]+)>")
_LINK = re.compile(r"<((?:https?|mailto):[^>]+)>")
_SPECIAL = re.compile(r"<!(\w+)(?:\|[^>]*)?>")


@dataclass(frozen=True)
class MessageNote:
    note: str
    transcript: str
    left_out: int  # characters beyond both fields (still in the linked message)
    prospect: str | None  # the one known prospect the text names


class NothingToLog(Exception):
    """The message holds no text to log; `reason` says so to the rep."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def readable(text: str) -> str:
    """Slack's message markup as a person reads it."""
    text = _USER.sub(lambda m: f"@{m[2] or m[1]}", text)
    text = _CHANNEL.sub(lambda m: f"#{m[1]}", text)
    text = _LABELLED_LINK.sub(lambda m: f"{m[2]} ({m[1].removeprefix('mailto:')})", text)
    text = _LINK.sub(lambda m: m[1].removeprefix("mailto:"), text)
    text = _SPECIAL.sub(lambda m: f"@{m[1]}", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


def _cut(text: str, limit: int) -> tuple[str, str]:
    """`text` cut at the last whitespace within `limit` (or at `limit` if there is none)."""
    if len(text) <= limit:
        return text, ""
    cut = max(text.rfind(" ", 0, limit + 1), text.rfind("\n", 0, limit + 1))
    cut = cut if cut > limit // 2 else limit
    return text[:cut].rstrip(), text[cut:].lstrip()


def named_prospect(text: str, known: list[str]) -> str | None:
    """The one known prospect whose whole name is in `text` (any case, accents); None when
    none or several are."""
    words = f"-{prospect_slug(text)}-"
    found = {name for name in known if (slug := prospect_slug(name)) and f"-{slug}-" in words}
    return found.pop() if len(found) == 1 else None


def note_from_message(message: dict[str, Any], known: list[str]) -> MessageNote:
    """The note, transcript and prospect a message gives; `NothingToLog` when it has no text."""
    text = readable(str(message.get("text") or ""))
    if not text:
        if message.get("files"):
            raise NothingToLog(
                "That message only holds files, and I can only log text. Open `/log` and say "
                "in a few sentences what the call was about (the file stays in Slack)."
            )
        raise NothingToLog(
            "That message has no text I can log. Open `/log` and write the note yourself."
        )
    note, rest = _cut(text, MAX_NOTE)
    transcript, beyond = _cut(rest, MAX_TRANSCRIPT)
    return MessageNote(note, transcript, len(beyond), named_prospect(text, known))
