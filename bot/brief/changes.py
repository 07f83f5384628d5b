"""What changed since the rep's last brief on a prospect: worked out from data (which calls and
which memory labels the last brief saw), never asked of the model."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.findings import MemoryFinding
from bot.services import Services
from memory.index import BriefView
from memory.records import TimelineEntry

logger = logging.getLogger(__name__)

# Labels worth saying "new" about; others (who logged it, call type) are not news.
NEWS_LABELS = ("objection:", "buying_signal:", "stakeholder_role:")


@dataclass(frozen=True)
class BriefChanges:
    since: datetime  # when the rep last opened this prospect's brief
    new_notes: list[TimelineEntry] = field(default_factory=list)  # newest first
    new_labels: list[str] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return bool(self.new_notes or self.new_labels)


def news_labels(labels: set[str] | list[str] | tuple[str, ...]) -> list[str]:
    return sorted({label for label in labels if label.startswith(NEWS_LABELS)})


def changes_since(
    previous: BriefView | None, entries: list[TimelineEntry], labels: list[str]
) -> BriefChanges | None:
    """None for a first brief; else the calls the last one did not have and the labels memory
    reports now that no earlier brief saw. A label missing now is not news: recall returns
    the most relevant memories, so absence proves nothing."""
    if previous is None:
        return None
    seen = set(previous.call_ids)
    return BriefChanges(
        since=previous.seen_at,
        new_notes=[entry for entry in entries if entry.call_id not in seen],
        new_labels=sorted(set(news_labels(labels)) - set(previous.labels)),
    )


async def note_changes(
    services: Services,
    workspace_id: str,
    rep_id: str | None,
    slug: str,
    entries: list[TimelineEntry],
    findings: list[MemoryFinding],
) -> BriefChanges | None:
    """What is new since this rep's last brief on the prospect; remembers what this one shows."""
    if rep_id is None:
        return None
    labels = news_labels([label for finding in findings for label in finding.labels])
    try:
        previous = await services.index.brief_view(workspace_id, rep_id, slug)
        changes = changes_since(previous, entries, labels)
        seen_labels = sorted(set(labels) | set(previous.labels if previous else ()))
        await services.index.save_brief_view(
            BriefView(
                workspace_id,
                rep_id,
                slug,
                services.clock(),
                tuple(entry.call_id for entry in entries),
                tuple(seen_labels),
            )
        )
    except Exception:
        # Bookkeeping: a brief without its "since last time" line beats no brief.
        logger.exception("Could not compare with the last brief on this prospect")
        return None
    return changes
