"""The App Home tab: the rep's own prospects, most recently contacted first."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.blocks import ids
from bot.blocks.limits import button, escape_mrkdwn, mrkdwn, plain
from memory.index import KnownProspect

HOME_PROSPECTS = 40


def _log_button(prospect: str = "") -> dict[str, Any]:
    return button("Log a call", ids.OPEN_LOG_ACTION, prospect)


def build_home_view(prospects: list[KnownProspect], today: date) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain("Your prospects")},
        {
            "type": "context",
            "elements": [
                mrkdwn(
                    "Everything you log is remembered. `/timeline <name>` shows a prospect's "
                    "history; `/log` records a call."
                )
            ],
        },
        {"type": "actions", "elements": [_log_button()]},
        {"type": "divider"},
    ]
    if not prospects:
        blocks.append(
            {
                "type": "section",
                "text": mrkdwn("No calls logged yet. Log your first call to start your memory."),
            }
        )
    for prospect in prospects[:HOME_PROSPECTS]:
        name = escape_mrkdwn(prospect.name)
        company = f" ({escape_mrkdwn(prospect.company)})" if prospect.company else ""
        facts = f"{prospect.interactions} call{'s' if prospect.interactions != 1 else ''}"
        if prospect.last_contact is not None:
            days = (today - prospect.last_contact).days
            facts = (
                f"last contact {prospect.last_contact:%d %b %Y} "
                f"({days} day{'s' if days != 1 else ''} ago) · {facts}"
            )
        blocks.append(
            {
                "type": "section",
                "text": mrkdwn(f"*{name}*{company}\n{facts}"),
                "accessory": _log_button(prospect.name),
            }
        )
    if len(prospects) > HOME_PROSPECTS:
        more = len(prospects) - HOME_PROSPECTS
        blocks.append(
            {"type": "context", "elements": [mrkdwn(f"…and {more} more: use `/timeline <name>`.")]}
        )
    return {"type": "home", "blocks": blocks}
