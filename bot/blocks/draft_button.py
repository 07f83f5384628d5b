"""The "Draft follow-up" button, shown on briefs, confirmations and drafts."""

from __future__ import annotations

import json

from bot.blocks import ids
from bot.blocks.limits import button


def followup_value(prospect: str, style: str = "") -> str:
    """What a draft button carries: the prospect and the style asked for."""
    return json.dumps({"p": prospect, "s": style}, ensure_ascii=False)


def draft_button(prospect: str, where: str, text: str = "Draft follow-up") -> dict[str, object]:
    """The "Draft follow-up" button a brief or a confirmation shows."""
    return button(text, f"{ids.DRAFT_FOLLOWUP_ACTION}_{where}", followup_value(prospect))
