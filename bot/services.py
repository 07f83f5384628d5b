"""What the use cases need, injected once at start-up (never imported as globals)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.infra.access import TeamAccess
from bot.infra.llm import LlmClient
from bot.infra.outbox import Outbox
from bot.infra.rep_timezones import RepTimezones
from memory.index import LocalIndex
from memory.store import ProspectMemory

BUSY_SLOTS = 4


@dataclass(frozen=True)
class Sight:
    """Whose calls on one prospect a rep may read."""

    rep_id: str | None = None  # only this rep's calls (NOTES_VISIBILITY=own); None: everyone's
    teammates: int = 0  # calls other reps logged on it: counted for the rep, never read

    def shows(self, rep_id: str) -> bool:
        """Whether a call this rep logged may be read."""
        return self.rep_id is None or rep_id == self.rep_id


EVERYONE = Sight()  # NOTES_VISIBILITY=workspace: every rep's calls are read
# Under NOTES_VISIBILITY=own, whose calls a request naming no rep reads: no Slack user id
# looks like this (theirs are capitals and digits), so it matches no call and no prospect.
NO_REP = "-no-rep-"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    memory: ProspectMemory
    index: LocalIndex
    llm: LlmClient | None = None  # None when no GROQ_API_KEY: briefs are memory-only
    clock: Callable[[], datetime] = field(default=utc_now)
    digest_token_budget: int = 24_000  # the digest prompt's ceiling (DIGEST_TOKEN_BUDGET)
    # The one path a logged call takes to memory; made from memory and index when not given.
    outbox: Outbox = field(default=None)  # type: ignore[assignment]
    # How many briefs, timelines and digests are worked on at once after their ack; more
    # wait their turn, so a burst of commands never starves the acks of the next ones.
    busy_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(BUSY_SLOTS))
    # "workspace": every rep sees every prospect's notes (team memory); "own": a rep reads
    # only the calls they logged, and the prospects they have logged (see `sight`).
    notes_visibility: str = "workspace"
    # Who besides admins and owners may open the team view: a user group (TEAM_VIEW_USERGROUP).
    team_usergroup: str | None = None
    team_access: TeamAccess = field(default_factory=TeamAccess)
    # App Home refreshes after a logged call: two at a time, one pending per rep at most.
    home_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))
    home_pending: set[tuple[str, str]] = field(default_factory=set)
    # Each rep's time zone, asked of Slack once per day at most.
    timezones: RepTimezones = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.outbox is None:
            self.outbox = Outbox(self.index, self.memory)
        if self.timezones is None:
            self.timezones = RepTimezones(self.index, on_user=self.team_access.learn)

    def seen_by(self, rep_id: str | None) -> str | None:
        """The rep whose own prospects alone they may see (None: they see the workspace's).
        Under `own` a request that names no rep sees nothing, never everything."""
        if self.notes_visibility != "own":
            return None
        return rep_id or NO_REP

    async def sight(self, workspace_id: str, slug: str, rep_id: str | None) -> Sight:
        """What of a prospect's calls the rep may read: under NOTES_VISIBILITY=own their own,
        with the teammates' calls counted from the local index (it holds every call, those
        still on their way to memory included), so their text is never read at all."""
        mine = self.seen_by(rep_id)
        if mine is None:
            return EVERYONE
        counts = await self.index.call_counts(workspace_id, slug, mine)
        return Sight(mine, counts.total - counts.mine)

    def today(self, tz_name: str | None) -> date:
        """Today's date where the rep is (UTC when their time zone is unknown)."""
        try:
            zone = ZoneInfo(tz_name) if tz_name else UTC
        except (ZoneInfoNotFoundError, ValueError):
            zone = UTC
        return self.clock().astimezone(zone).date()
