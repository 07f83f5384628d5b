"""The pre-call brief in Block Kit: the model's brief, the memory-only one, or no history."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from bot.blocks import ids
from bot.blocks.draft_button import draft_button
from bot.blocks.limits import (
    HEADER_TEXT,
    MESSAGE_BLOCKS,
    SECTION_TEXT,
    button,
    escape_mrkdwn,
    label_name,
    mrkdwn,
    plain,
    truncate,
)
from bot.blocks.messages import teammates_note
from bot.brief.answer import WE, Claim, Commitment, DecisionMaker, Objection

if TYPE_CHECKING:
    # The result's type only: the view never imports the use case's I/O.
    from bot.brief.changes import BriefChanges
    from bot.brief.prepare import BriefResult

MOMENTUM = {"improving": "↗ Improving", "stable": "→ Stable", "declining": "↘ Declining"}
MEMORY_NOTES_SHOWN = 10
MEMORY_NOTE_CHARS = 700

BRIEF_USAGE = (
    "Usage: `/brief <prospect name>`, e.g. `/brief James Okafor`. Part of a name is enough "
    "when only one prospect matches."
)


def _day(value: date | None) -> str:
    return f"{value:%d %b %Y}" if value else "date unknown"


def _last_contact(result: BriefResult) -> str:
    facts = result.facts
    if facts.last_contact is None:
        return "never"
    days = facts.days_since_contact or 0
    ago = "today" if days == 0 else f"{days} day{'s' if days != 1 else ''} ago"
    return f"{_day(facts.last_contact)} ({ago}) · {escape_mrkdwn(facts.last_outcome or '')}"


def _confidence(result: BriefResult) -> str:
    facts = result.facts
    count = f"{facts.interactions} note{'s' if facts.interactions != 1 else ''}"
    return f"{result.confidence.capitalize()} ({count})"


def _claim_lines(claims: list[Claim], show_detail: bool = False) -> str:
    if not claims:
        return "_Not in any note._"
    lines = []
    for claim in claims:
        detail = f"*{escape_mrkdwn(claim.detail)}*: " if show_detail and claim.detail else ""
        lines.append(f"• {detail}{escape_mrkdwn(claim.text)} _({_day(claim.source_date)})_")
    return "\n".join(lines)


def _section(title: str, body: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(f"*{title}*\n{body}", SECTION_TEXT)}


def _actions(name: str) -> dict[str, Any]:
    return {
        "type": "actions",
        "elements": [
            button("Log a call", ids.OPEN_LOG_ACTION, name, primary=True),
            draft_button(name, "brief"),
            button("Timeline", f"{ids.OPEN_TIMELINE_ACTION}_brief", name),
        ],
    }


def _choices(names: list[str]) -> dict[str, Any]:
    return {
        "type": "actions",
        "elements": [
            button(name, f"{ids.OPEN_BRIEF_ACTION}_{i}", name) for i, name in enumerate(names[:5])
        ],
    }


def _facts_fields(result: BriefResult) -> dict[str, Any]:
    return {
        "type": "section",
        "fields": [
            mrkdwn(f"*Last contact*\n{_last_contact(result)}"),
            mrkdwn(f"*Interactions*\n{result.facts.interactions}"),
            mrkdwn(f"*Confidence*\n{_confidence(result)}"),
        ],
    }


def build_brief_blocks(result: BriefResult) -> list[dict[str, Any]]:
    name = result.match.name
    if result.match.ambiguous:
        return [
            {
                "type": "section",
                "text": mrkdwn(f"Several prospects match *{escape_mrkdwn(name)}*. Which one?"),
            },
            _choices(result.choices),
        ]
    if not result.has_history:
        return _no_history_blocks(result)
    header = {"type": "header", "text": plain(f"Brief · {name}", HEADER_TEXT)}
    news = [_changes_block(result.changes)] if result.changes is not None else []
    if result.facts.teammates:
        news.append(
            {"type": "context", "elements": [mrkdwn(teammates_note(result.facts.teammates))]}
        )
    if result.brief is None:
        blocks = [header, *news, *_memory_only_blocks(result)]
    else:
        blocks = [header, *news, *_model_brief_blocks(result)]
    blocks.append(_actions(name))
    assert len(blocks) <= MESSAGE_BLOCKS
    return blocks


def _changes_block(changes: BriefChanges) -> dict[str, Any]:
    """What is new since the rep's last brief on this prospect, from data."""
    since = f"{changes.since:%d %b %Y}"
    if not changes.anything:
        return {
            "type": "context",
            "elements": [mrkdwn(f"Nothing new since your last brief ({since}).")],
        }
    parts = []
    if changes.new_notes:
        count = len(changes.new_notes)
        days = ", ".join(f"{e.call_date:%d %b}" for e in changes.new_notes[:5])
        parts.append(f"{count} new note{'s' if count != 1 else ''} ({days})")
    if changes.new_labels:
        shown = ", ".join(escape_mrkdwn(label_words(label)) for label in changes.new_labels[:6])
        parts.append(f"new in memory: {shown}")
    return {
        "type": "context",
        "elements": [mrkdwn(f"🆕 Since your last brief ({since}): " + " · ".join(parts))],
    }


def label_words(label: str) -> str:
    """`objection:security_compliance` as a rep reads it: `objection: security compliance`."""
    kind, _, value = label.partition(":")
    return f"{kind.replace('_', ' ')}: {value.replace('_', ' ')}"


def _model_brief_blocks(result: BriefResult) -> list[dict[str, Any]]:
    brief = result.brief
    assert brief is not None
    action = brief.recommended_action
    action_source = f" _({_day(action.source_date)})_" if action.source_date else ""
    return [
        {
            "type": "section",
            "fields": [
                mrkdwn(f"*Deal health*\n{brief.score}/100 · {escape_mrkdwn(brief.label)}"),
                mrkdwn(f"*Momentum*\n{MOMENTUM.get(brief.momentum, brief.momentum)}"),
                mrkdwn(f"*Last contact*\n{_last_contact(result)}"),
                mrkdwn(f"*Confidence*\n{_confidence(result)}"),
            ],
        },
        {"type": "section", "text": mrkdwn(escape_mrkdwn(brief.summary) or "_No summary._")},
        _section("👉 Recommended next action", escape_mrkdwn(action.text) + action_source),
        {"type": "divider"},
        _section("Objections", _objection_lines(brief.objections)),
        _section("Decision makers", _decision_maker_lines(brief.decision_makers)),
        _section("Commitments", _commitment_lines(brief.commitments, result.facts.today)),
        _section("Budget signals", _claim_lines(brief.budget_signals)),
        _section("Competitors", _claim_lines(brief.competitors, show_detail=True)),
        _section("Risks", _claim_lines(brief.risks)),
        _section("Focus on", _claim_lines(brief.focus)),
        {
            "type": "context",
            "elements": [
                mrkdwn(
                    f"Built from {len(result.notes)} dated note(s) in memory; each point shows "
                    "the date of the note it comes from. Facts and dates are computed, not "
                    "generated."
                )
            ],
        },
    ]


def _objection_lines(objections: list[Objection]) -> str:
    """Open ones first, each with the date it was raised; then the resolved ones, with when."""
    if not objections:
        return "_Not in any note._"
    lines = [
        f"• 🔴 *{label_name(o.kind)}*: {escape_mrkdwn(o.text)} _(raised {_day(o.raised)})_"
        for o in objections
        if o.is_open
    ]
    lines += [
        f"• ✅ ~{label_name(o.kind)}~: {escape_mrkdwn(o.text)} "
        f"_(raised {_day(o.raised)}, resolved {_day(o.resolved)})_"
        for o in objections
        if not o.is_open
    ]
    return "\n".join(lines)


def _decision_maker_lines(people: list[DecisionMaker]) -> str:
    if not people:
        return "_Not in any note._"
    lines = []
    for person in people:
        role = "" if person.role == "unknown" else f" · {label_name(person.role).lower()}"
        authority = f" — {escape_mrkdwn(person.authority)}" if person.authority else ""
        lines.append(
            f"• *{escape_mrkdwn(person.name)}*{role}{authority} _({_day(person.source_date)})_"
        )
    return "\n".join(lines)


def _commitment_lines(commitments: list[Commitment], today: date) -> str:
    """Open promises on both sides, with when they were made and whether they are late; then
    how many were kept."""
    open_ones = [c for c in commitments if c.is_open]
    kept = [c for c in commitments if not c.is_open]
    if not commitments:
        return "_None in any note._"
    lines = []
    for promise in open_ones:
        who = "You" if promise.by == WE else "They"
        state = "not done yet"
        if promise.overdue(today):
            state = f"⚠️ overdue since {_day(promise.due)}"
        elif promise.due is not None:
            state += f", due {_day(promise.due)}"
        lines.append(
            f"• *{who}* promised {escape_mrkdwn(promise.text)} on {_day(promise.made)}; {state}"
        )
    if kept:
        latest = max(c.done for c in kept if c.done is not None)
        lines.append(f"_{len(kept)} kept (latest {_day(latest)})._")
    return "\n".join(lines)


def _memory_only_blocks(result: BriefResult) -> list[dict[str, Any]]:
    reason = escape_mrkdwn(result.fallback_reason or "the AI summary is unavailable")
    blocks: list[dict[str, Any]] = [
        {
            "type": "context",
            "elements": [
                mrkdwn(
                    f"⚠️ *Memory-only brief*: {reason}, so here is what memory holds, "
                    "without scoring or advice."
                )
            ],
        },
        _facts_fields(result),
        {"type": "divider"},
    ]
    notes = sorted(result.notes, key=lambda n: n.call_date or date.min, reverse=True)
    for note in notes[:MEMORY_NOTES_SHOWN]:
        kind = "Transcript" if note.kind == "transcript" else escape_mrkdwn(note.outcome)
        if note.waiting:
            kind += " · ⏳ on its way to memory"
        text = truncate(escape_mrkdwn(note.text), MEMORY_NOTE_CHARS)
        blocks.append(
            {"type": "section", "text": mrkdwn(f"*{_day(note.call_date)}* · {kind}\n{text}")}
        )
    if len(notes) > MEMORY_NOTES_SHOWN:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    mrkdwn(f"{len(notes) - MEMORY_NOTES_SHOWN} older note(s): see Timeline.")
                ],
            }
        )
    return blocks


def _no_history_blocks(result: BriefResult) -> list[dict[str, Any]]:
    name = escape_mrkdwn(result.match.name)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(f"Brief · {result.match.name}", HEADER_TEXT)},
        {
            "type": "section",
            "text": mrkdwn(
                f"*No history yet* with *{name}*: nothing has been logged, so there is no score, "
                "and confidence is *low*. Use the call to learn their priorities, budget, "
                "timeline and who decides — then log it."
            ),
        },
    ]
    if result.choices:
        blocks.append({"type": "section", "text": mrkdwn("Did you mean:")})
        blocks.append(_choices(result.choices))
    blocks.append(
        {
            "type": "actions",
            "elements": [button("Log a call", ids.OPEN_LOG_ACTION, result.match.name, True)],
        }
    )
    return blocks
