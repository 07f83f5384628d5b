"""The pre-call brief: recalled memory and computed facts in, one checked Groq answer out.

When the model cannot help (no key, timeout, rate limit, unusable answer) the rep still gets a
memory-only brief: the computed facts and the notes themselves.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from bot.brief.answer import Brief, brief_from_answer, check_brief_answer
from bot.brief.changes import BriefChanges, note_changes
from bot.domain.deal_facts import BriefFacts, BriefNote
from bot.domain.findings import MemoryFinding
from bot.domain.prospect_lookup import ProspectMatch, find_prospect
from bot.domain.recall import memory_prompt, recollect
from bot.infra.llm import LlmFailed, LlmTask
from bot.services import Services
from memory.index import DealHealth

logger = logging.getLogger(__name__)

BRIEF_QUERY = (
    "{name}: objections, concerns, budget freeze or approval, pricing, competitors, decision "
    "makers and their roles, risks, blockers, next steps, commitments, pilot or trial"
)
_CONFIDENCE = ["low", "medium", "high"]
# Its answer is checked field by field and date by date, so a small model may try first.
BRIEF_TASK = LlmTask(
    "brief",
    cheap=True,
    answer_tokens=2500,
    system="brief_system.md",
    schema="brief_schema.json",
    schema_name="pre_call_brief",
)


@dataclass(frozen=True)
class BriefResult:
    match: ProspectMatch
    facts: BriefFacts
    notes: list[BriefNote]
    brief: Brief | None = None
    fallback_reason: str | None = None  # why this is a memory-only brief
    choices: list[str] = field(default_factory=list)  # "did you mean …"
    changes: BriefChanges | None = None  # since this rep's last brief (None: the first)

    @property
    def has_history(self) -> bool:
        return self.facts.interactions > 0

    @property
    def confidence(self) -> str:
        """The lower of the model's confidence and what the data supports."""
        data = self.facts.data_confidence
        if self.brief is None:
            return data
        return min(self.brief.confidence, data, key=_CONFIDENCE.index)


def build_brief_prompt(
    name: str,
    company: str,
    facts: BriefFacts,
    notes: list[BriefNote],
    findings: list[MemoryFinding] | None = None,
) -> str:
    """The user message: what memory holds, then the request for a brief."""
    return (
        memory_prompt(name, company, facts, notes, findings)
        + "Write the pre-call brief as JSON matching the schema."
    )


async def make_brief(
    services: Services,
    workspace_id: str,
    typed: str,
    tz: str | None = None,
    rep_id: str | None = None,
) -> BriefResult:
    """Raises `MemoryUnavailable` when Hindsight cannot be read."""
    match = await find_prospect(services.index, workspace_id, typed, services.seen_by(rep_id))
    today = services.today(tz)
    if match.ambiguous or (services.seen_by(rep_id) and not match.known):
        # With NOTES_VISIBILITY=own, memory is not read for a prospect the rep has not logged.
        nothing = BriefFacts.from_timeline([], today)
        return BriefResult(match, nothing, [], choices=match.suggestions)
    query = BRIEF_QUERY.format(name=match.name)
    recalled = await recollect(services, workspace_id, match, query, rep_id)
    entries, notes, findings = recalled.entries, recalled.notes, recalled.findings
    facts = BriefFacts.from_timeline(entries, today, recalled.teammates)
    if not entries:
        return BriefResult(match, facts, [], choices=match.suggestions)
    changes = await note_changes(services, workspace_id, rep_id, match.slug, entries, findings)
    if services.llm is None:
        return BriefResult(
            match,
            facts,
            notes,
            fallback_reason="AI summaries are not configured",
            changes=changes,
        )
    known = await services.index.prospect(workspace_id, match.slug)
    prompt = build_brief_prompt(match.name, known.company if known else "", facts, notes, findings)
    try:
        answer = await services.llm.run(BRIEF_TASK, prompt, workspace_id, check_brief_answer)
    except LlmFailed as failure:
        return BriefResult(match, facts, notes, fallback_reason=failure.reason, changes=changes)
    # A claim may cite any of the prospect's notes, including one memory recalled for it that
    # the prompt had no room for.
    note_dates = {e.call_date for e in entries}
    brief = brief_from_answer(answer, note_dates)
    await _remember_health(services, workspace_id, match.slug, brief, today, rep_id or "")
    return BriefResult(match, facts, notes, brief=brief, changes=changes)


async def _remember_health(
    services: Services, workspace_id: str, slug: str, brief: Brief, today: date, rep_id: str
) -> None:
    """Keep the brief's verdict for App Home, as judged by the rep's brief (under
    NOTES_VISIBILITY=own it read only their notes); the brief is shown even if this fails."""
    open_ones = [c for c in brief.commitments if c.is_open]
    dues = [c.due for c in open_ones if c.due is not None]
    health = DealHealth(
        slug=slug,
        score=brief.score,
        label=brief.label,
        momentum=brief.momentum,
        briefed_on=today,
        open_commitments=len(open_ones),
        next_due=min(dues) if dues else None,
    )
    try:
        await services.index.record_health(workspace_id, health, judged_by=rep_id)
    except Exception:
        logger.exception("Could not keep a prospect's health for App Home")
