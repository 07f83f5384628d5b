"""The local index's per-rep extras around the pipeline: what the last brief showed, deal
health, snoozes, quiet-deal alerts, follow-up drafts, and the team view's reads. Metadata only,
except a shown draft (kept two weeks so it can be logged as sent)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Connection, and_, delete, select
from sqlalchemy.exc import IntegrityError

from memory.index_base import IndexBase, aware, offloaded, retry_on_conflict
from memory.index_tables import (
    alert_runs,
    alerts_off,
    brief_views,
    calls,
    deal_health,
    drafts,
    snoozes,
)


class LoggedCall(NamedTuple):
    """One logged call's metadata (no note text)."""

    call_id: str
    rep_id: str
    slug: str
    call_date: date
    outcome: str


@dataclass(frozen=True)
class BriefView:
    """What the rep's last brief on a prospect showed: its calls and memory's labels."""

    workspace_id: str
    rep_id: str
    slug: str
    seen_at: datetime
    call_ids: tuple[str, ...]
    labels: tuple[str, ...]


@dataclass(frozen=True)
class DealHealth:
    """A prospect's health as its latest model-made brief judged it."""

    slug: str
    score: int
    label: str
    momentum: str
    briefed_on: date
    open_commitments: int = 0
    next_due: date | None = None


@dataclass(frozen=True)
class KeptDraft:
    """A follow-up draft as it was shown to the rep."""

    draft_id: str
    workspace_id: str
    rep_id: str
    prospect: str
    recipient: str
    subject: str
    body: str
    created_at: datetime


# How long a shown draft can still be logged as sent.
DRAFTS_KEPT = timedelta(days=14)


class PipelineIndex(IndexBase):
    """The per-rep extras around the pipeline (part of LocalIndex)."""

    # -- briefs ---------------------------------------------------------------------------

    @offloaded("read")
    def brief_view(self, workspace_id: str, rep_id: str, slug: str) -> BriefView | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(brief_views).where(
                    brief_views.c.workspace_id == workspace_id,
                    brief_views.c.rep_id == rep_id,
                    brief_views.c.slug == slug,
                )
            ).first()
        if row is None:
            return None
        seen_at = aware(row.seen_at)
        return BriefView(
            workspace_id,
            rep_id,
            slug,
            seen_at,
            tuple(json.loads(row.call_ids)),
            tuple(json.loads(row.labels)),
        )

    @offloaded("write")
    @retry_on_conflict
    def save_brief_view(self, view: BriefView) -> None:
        where = and_(
            brief_views.c.workspace_id == view.workspace_id,
            brief_views.c.rep_id == view.rep_id,
            brief_views.c.slug == view.slug,
        )
        with self._engine.begin() as conn:
            conn.execute(delete(brief_views).where(where))
            conn.execute(
                brief_views.insert().values(
                    workspace_id=view.workspace_id,
                    rep_id=view.rep_id,
                    slug=view.slug,
                    seen_at=view.seen_at,
                    call_ids=json.dumps(list(view.call_ids)),
                    labels=json.dumps(list(view.labels)),
                )
            )

    # -- quiet-deal alerts ------------------------------------------------------------------

    @offloaded("read")
    def call_history(self, workspace_id: str, rep_id: str) -> dict[str, list[tuple[date, str]]]:
        """For each prospect the rep has logged: every call's date and outcome (anyone's),
        oldest first."""
        query = (
            select(calls.c.slug, calls.c.call_date, calls.c.outcome)
            .where(
                calls.c.workspace_id == workspace_id,
                calls.c.slug.in_(
                    select(calls.c.slug).where(
                        calls.c.workspace_id == workspace_id, calls.c.rep_id == rep_id
                    )
                ),
            )
            .order_by(calls.c.slug, calls.c.call_date)
        )
        history: dict[str, list[tuple[date, str]]] = {}
        with self._engine.connect() as conn:
            for row in conn.execute(query):
                history.setdefault(row.slug, []).append((row.call_date, row.outcome))
        return history

    @offloaded("write")
    def claim_alert(self, workspace_id: str, rep_id: str, day: date) -> bool:
        """Claim the rep's alert for their local `day`; False when it was claimed already
        (by this process, a restart or another replica)."""
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    alert_runs.insert().values(workspace_id=workspace_id, rep_id=rep_id, day=day)
                )
                conn.execute(delete(alert_runs).where(alert_runs.c.day < day - timedelta(days=30)))
        except IntegrityError:  # the row is there: claimed already
            return False
        return True

    @offloaded("write")
    def release_alert(self, workspace_id: str, rep_id: str, day: date) -> None:
        """Give back the rep's claim for `day` (the DM did not go out): the next run tries."""
        with self._engine.begin() as conn:
            conn.execute(
                delete(alert_runs).where(
                    alert_runs.c.workspace_id == workspace_id,
                    alert_runs.c.rep_id == rep_id,
                    alert_runs.c.day == day,
                )
            )

    @offloaded("write")
    def set_alerts(self, workspace_id: str, rep_id: str, enabled: bool) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                delete(alerts_off).where(
                    alerts_off.c.workspace_id == workspace_id, alerts_off.c.rep_id == rep_id
                )
            )
            if not enabled:
                conn.execute(alerts_off.insert().values(workspace_id=workspace_id, rep_id=rep_id))

    @offloaded("read")
    def alerts_enabled(self, workspace_id: str, rep_id: str) -> bool:
        with self._engine.connect() as conn:
            off = conn.execute(
                select(alerts_off.c.rep_id).where(
                    alerts_off.c.workspace_id == workspace_id, alerts_off.c.rep_id == rep_id
                )
            ).first()
        return off is None

    # -- snoozes ----------------------------------------------------------------------------

    @offloaded("write")
    @retry_on_conflict
    def snooze(self, workspace_id: str, rep_id: str, slug: str, until: date | None) -> None:
        """Snooze the rep's prospect until `until` (inclusive); None wakes it up."""
        with self._engine.begin() as conn:
            conn.execute(
                delete(snoozes).where(
                    snoozes.c.workspace_id == workspace_id,
                    snoozes.c.rep_id == rep_id,
                    snoozes.c.slug == slug,
                )
            )
            if until is not None:
                conn.execute(
                    snoozes.insert().values(
                        workspace_id=workspace_id, rep_id=rep_id, slug=slug, until=until
                    )
                )

    @offloaded("read")
    def snoozed(self, workspace_id: str, rep_id: str, today: date) -> dict[str, date]:
        """The rep's prospects snoozed on `today`, with the last day of each snooze."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(snoozes.c.slug, snoozes.c.until).where(
                    snoozes.c.workspace_id == workspace_id,
                    snoozes.c.rep_id == rep_id,
                    snoozes.c.until >= today,
                )
            )
            return {row.slug: row.until for row in rows}

    # -- the team view ----------------------------------------------------------------------

    @offloaded("read")
    def workspace_calls(self, workspace_id: str) -> list[LoggedCall]:
        """Every call logged in the workspace (who, which prospect, when, how it went), oldest
        first: metadata only, for the team view's aggregates."""
        query = (
            select(
                calls.c.call_id, calls.c.rep_id, calls.c.slug, calls.c.call_date, calls.c.outcome
            )
            .where(calls.c.workspace_id == workspace_id)
            .order_by(calls.c.call_date, calls.c.call_id)
        )
        with self._engine.connect() as conn:
            return [LoggedCall(*row) for row in conn.execute(query)]

    @offloaded("read")
    def calls_by_id(self, workspace_id: str, call_ids: list[str]) -> dict[str, LoggedCall]:
        """These calls' metadata, by call id (an id the index does not hold is left out)."""
        found: dict[str, LoggedCall] = {}
        columns = (
            calls.c.call_id,
            calls.c.rep_id,
            calls.c.slug,
            calls.c.call_date,
            calls.c.outcome,
        )
        with self._engine.connect() as conn:
            for start in range(0, len(call_ids), 500):  # within any database's parameter limit
                chunk = call_ids[start : start + 500]
                query = select(*columns).where(
                    calls.c.workspace_id == workspace_id, calls.c.call_id.in_(chunk)
                )
                found.update((row.call_id, LoggedCall(*row)) for row in conn.execute(query))
        return found

    @offloaded("read")
    def snoozes_by_rep(self, workspace_id: str, today: date) -> dict[str, dict[str, date]]:
        """Each rep's prospects snoozed on `today`, with the last day of each snooze."""
        query = select(snoozes.c.rep_id, snoozes.c.slug, snoozes.c.until).where(
            snoozes.c.workspace_id == workspace_id, snoozes.c.until >= today
        )
        found: dict[str, dict[str, date]] = {}
        with self._engine.connect() as conn:
            for row in conn.execute(query):
                found.setdefault(row.rep_id, {})[row.slug] = row.until
        return found

    # -- deal health (App Home) -------------------------------------------------------------

    @offloaded("write")
    @retry_on_conflict
    def record_health(self, workspace_id: str, health: DealHealth, judged_by: str = "") -> None:
        """The prospect's latest brief's verdict, replacing the one before; `judged_by` is
        the rep whose brief it was (under NOTES_VISIBILITY=own it read only their notes)."""
        with self._engine.begin() as conn:
            conn.execute(
                delete(deal_health).where(
                    deal_health.c.workspace_id == workspace_id,
                    deal_health.c.slug == health.slug,
                )
            )
            conn.execute(
                deal_health.insert().values(
                    workspace_id=workspace_id,
                    slug=health.slug,
                    score=health.score,
                    label=health.label,
                    momentum=health.momentum,
                    briefed_on=health.briefed_on,
                    open_commitments=health.open_commitments,
                    next_due=health.next_due,
                    judged_by=judged_by,
                )
            )

    @offloaded("read")
    def health_of(
        self, workspace_id: str, slugs: list[str], judged_by: str | None = None
    ) -> dict[str, DealHealth]:
        """The health of these prospects that have had a model-made brief; with `judged_by`,
        only the verdicts of that rep's own briefs (a teammate's was drawn from notes the rep
        may not read)."""
        found: dict[str, DealHealth] = {}
        with self._engine.connect() as conn:
            for start in range(0, len(slugs), 500):
                where = [
                    deal_health.c.workspace_id == workspace_id,
                    deal_health.c.slug.in_(slugs[start : start + 500]),
                ]
                if judged_by is not None:
                    where.append(deal_health.c.judged_by == judged_by)
                rows = conn.execute(select(deal_health).where(*where))
                for row in rows:
                    found[row.slug] = DealHealth(
                        slug=row.slug,
                        score=row.score,
                        label=row.label,
                        momentum=row.momentum,
                        briefed_on=row.briefed_on,
                        open_commitments=row.open_commitments,
                        next_due=row.next_due,
                    )
        return found

    # -- follow-up drafts -------------------------------------------------------------------

    @offloaded("write")
    def keep_draft(self, draft: KeptDraft) -> None:
        """Keep a shown draft for two weeks (older ones are dropped now)."""
        with self._engine.begin() as conn:
            _drop_old_drafts(conn, draft.created_at)
            conn.execute(
                drafts.insert().values(
                    draft_id=draft.draft_id,
                    workspace_id=draft.workspace_id,
                    rep_id=draft.rep_id,
                    prospect=draft.prospect,
                    recipient=draft.recipient,
                    subject=draft.subject,
                    body=draft.body,
                    created_at=draft.created_at,
                )
            )

    @offloaded("write")
    @retry_on_conflict
    def drop_old_drafts(self, now: datetime) -> int:
        """Drop the drafts kept longer than two weeks (their text goes with them)."""
        with self._engine.begin() as conn:
            return _drop_old_drafts(conn, now)

    @offloaded("read")
    def kept_draft(
        self, workspace_id: str, rep_id: str, draft_id: str, now: datetime
    ) -> KeptDraft | None:
        """The rep's own draft, if it is younger than two weeks."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(drafts).where(
                    drafts.c.draft_id == draft_id,
                    drafts.c.workspace_id == workspace_id,
                    drafts.c.rep_id == rep_id,
                )
            ).first()
        if row is None:
            return None
        created = aware(row.created_at)
        if created < now - DRAFTS_KEPT:
            return None
        return KeptDraft(
            draft_id=row.draft_id,
            workspace_id=row.workspace_id,
            rep_id=row.rep_id,
            prospect=row.prospect,
            recipient=row.recipient,
            subject=row.subject,
            body=row.body,
            created_at=created,
        )


def _drop_old_drafts(conn: Connection, now: datetime) -> int:
    return conn.execute(delete(drafts).where(drafts.c.created_at < now - DRAFTS_KEPT)).rowcount
