"""The memory timeline message, paged within Block Kit's limits."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from bot.blocks import ids
from bot.blocks.limits import (
    HEADER_TEXT,
    MESSAGE_BLOCKS,
    button,
    escape_mrkdwn,
    mrkdwn,
    plain,
)
from bot.blocks.messages import teammates_note
from memory.records import TimelineEntry

if TYPE_CHECKING:
    # The result's type only: the view never imports the use case's I/O.
    from bot.timeline.history import Timeline

_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")

TIMELINE_USAGE = (
    "Usage: `/timeline <prospect name>`, e.g. `/timeline James Okafor`. "
    "It shows every call logged with that prospect, newest first."
)


def rep_mention(rep_id: str) -> str:
    return f"<@{rep_id}>" if _SLACK_USER.match(rep_id) else escape_mrkdwn(rep_id or "someone")


def _entry_blocks(entry: TimelineEntry) -> list[dict[str, Any]]:
    facts = [
        f"*{entry.call_date:%a %d %b %Y}*",
        escape_mrkdwn(entry.outcome_label),
        f"logged by {rep_mention(entry.rep_id)}",
    ]
    if entry.has_transcript:
        facts.append("📎 transcript")
    if entry.pending:
        facts.append("⏳ on its way to memory (kept here until it is in)")
    return [
        {"type": "context", "elements": [mrkdwn(" · ".join(facts))]},
        {"type": "section", "text": mrkdwn(escape_mrkdwn(entry.note) or "_(no note)_")},
        {"type": "divider"},
    ]


def page_value(slug: str, page: int) -> str:
    return json.dumps({"slug": slug, "page": page})


# An overflow menu option's value holds at most 75 characters.
OPTION_VALUE_MENU = 75


def build_timeline_blocks(timeline: Timeline) -> list[dict[str, Any]]:
    """One page of a prospect's timeline, or an honest "nothing logged" with suggestions."""
    match = timeline.match
    if not timeline.found:
        return build_unknown_prospect_blocks(match.name, match.suggestions)
    page, count = timeline.page, timeline.count
    last = f"last contact {timeline.last_contact:%d %b %Y} · " if timeline.last_contact else ""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(f"Timeline · {match.name}", HEADER_TEXT)},
        {
            "type": "context",
            "elements": [
                mrkdwn(
                    f"{count} interaction{'s' if count != 1 else ''} · {last}"
                    f"newest first · page {page + 1} of {timeline.pages}"
                )
            ],
        },
    ]
    if timeline.teammates:
        blocks.append({"type": "context", "elements": [mrkdwn(teammates_note(timeline.teammates))]})
    if timeline.memory_down:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    mrkdwn(
                        "⚠️ I can't reach the memory service: showing only calls kept here "
                        "until it is back."
                    )
                ],
            }
        )
    for entry in timeline.entries:
        blocks.extend(_entry_blocks(entry))
    nav: list[dict[str, Any]] = []
    if page > 0:
        nav.append(
            button("◀ Newer", ids.TIMELINE_PAGE_ACTION + "_newer", page_value(match.slug, page - 1))
        )
    if page < timeline.pages - 1:
        nav.append(
            button("Older ▶", ids.TIMELINE_PAGE_ACTION + "_older", page_value(match.slug, page + 1))
        )
    nav.append(button("Log a call", ids.OPEN_LOG_ACTION, match.name, primary=True))
    if len(match.name) <= OPTION_VALUE_MENU:
        nav.append(
            {
                "type": "overflow",
                "action_id": f"{ids.FORGET_REVIEW_ACTION}_timeline",
                "options": [
                    {"text": plain("Forget this prospect…"), "value": match.name},
                ],
            }
        )
    blocks.append({"type": "actions", "elements": nav})
    assert len(blocks) <= MESSAGE_BLOCKS
    return blocks


def build_unknown_prospect_blocks(name: str, suggestions: list[str]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": mrkdwn(f"I have no calls logged for *{escape_mrkdwn(name)}* yet."),
        }
    ]
    if suggestions:
        blocks.append({"type": "section", "text": mrkdwn("Did you mean:")})
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    button(s, f"{ids.OPEN_TIMELINE_ACTION}_{i}", s)
                    for i, s in enumerate(suggestions[:5])
                ],
            }
        )
    blocks.append(
        {
            "type": "actions",
            "elements": [
                button(f"Log a call with {name}", ids.OPEN_LOG_ACTION, name, primary=True)
            ],
        }
    )
    return blocks
