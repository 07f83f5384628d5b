"""The weekly digest DM: three buckets, each prospect with a button that opens its brief."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.blocks import ids
from bot.blocks.limits import MESSAGE_BLOCKS, button, escape_mrkdwn, mrkdwn, plain, truncate

if TYPE_CHECKING:
    # The result's types only: the view never imports the use case's I/O.
    from bot.digest.ranking import Digest, DigestItem

# The digest's sections, in the order a rep reads them (the ranking fills them).
BUCKETS = ("needs_attention", "follow_up", "on_track")

BUCKET_TITLES = {
    "needs_attention": "🔴 Needs attention now",
    "follow_up": "🟡 Follow up this week",
    "on_track": "🟢 On track",
}
ITEM_CHARS = 600
# One section per prospect while they fit; past that, compact sections plus button rows.
ONE_SECTION_EACH = 38
BUTTONS_PER_ROW = 25
COMPACT_SECTION_CHARS = 2900

NO_PROSPECTS = (
    "👋 Your Monday digest ranks every prospect you have logged a call with — and you have "
    "none yet. Log your first call with `/log <prospect>` after your next call, and next "
    "Monday this message will tell you where to start."
)


def _item_text(item: DigestItem) -> str:
    placed = " _(placed from the facts in memory)_" if item.by_facts else ""
    text = f"*{escape_mrkdwn(item.name)}* — {escape_mrkdwn(item.reason)}{placed}\n" + (
        f"👉 {escape_mrkdwn(item.action)}"
    )
    return truncate(text, ITEM_CHARS)


def _brief_button(item: DigestItem, n: int, text: str = "Brief") -> dict[str, Any]:
    return button(text, f"{ids.OPEN_BRIEF_ACTION}_d{n}", item.name)


def build_digest_blocks(digest: Digest) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(f"Your week · {digest.today:%a %d %b}")},
        {
            "type": "context",
            "elements": [mrkdwn(f"{len(digest.items)} prospects, ranked together in one pass.")],
        },
    ]
    if digest.fallback_reason:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    mrkdwn(
                        f"⚠️ *Ordered by the facts in memory* (silence, last outcome): "
                        f"{escape_mrkdwn(digest.fallback_reason)}."
                    )
                ],
            }
        )
    compact = len(digest.items) > ONE_SECTION_EACH
    n = 0
    for bucket in BUCKETS:
        items = digest.bucket(bucket)
        blocks.append({"type": "section", "text": mrkdwn(f"*{BUCKET_TITLES[bucket]}*")})
        if not items:
            blocks.append({"type": "context", "elements": [mrkdwn("Nobody here this week.")]})
            continue
        if not compact:
            for item in items:
                blocks.append(
                    {
                        "type": "section",
                        "text": mrkdwn(_item_text(item)),
                        "accessory": _brief_button(item, n),
                    }
                )
                n += 1
            continue
        chunk = ""
        for item in items:
            line = _item_text(item)
            if chunk and len(chunk) + len(line) + 2 > COMPACT_SECTION_CHARS:
                blocks.append({"type": "section", "text": mrkdwn(chunk)})
                chunk = ""
            chunk = f"{chunk}\n\n{line}" if chunk else line
        blocks.append({"type": "section", "text": mrkdwn(chunk)})
        for start in range(0, len(items), BUTTONS_PER_ROW):
            row = items[start : start + BUTTONS_PER_ROW]
            blocks.append(
                {
                    "type": "actions",
                    "elements": [
                        _brief_button(item, n + i, item.name) for i, item in enumerate(row)
                    ],
                }
            )
            n += len(row)
    assert len(blocks) <= MESSAGE_BLOCKS, len(blocks)
    return blocks
