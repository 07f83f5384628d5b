"""A follow-up draft in Block Kit: the blocker and how it changed, who decides, who it goes to,
the email, and its buttons. Every text from memory or the model is escaped."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from bot.blocks import ids
from bot.blocks.draft_button import draft_button, followup_value
from bot.blocks.limits import HEADER_TEXT, SECTION_TEXT, button, escape_mrkdwn, mrkdwn, plain
from bot.blocks.messages import teammates_note

if TYPE_CHECKING:
    # The result's type only: the view never imports the use case's I/O.
    from bot.followup.draft import Analysis, FollowupResult

MAX_PARAGRAPHS = 30
ROLES = {
    "decision_maker": "decision maker",
    "champion": "champion",
    "approver": "approver",
    "blocker": "blocker",
    "influencer": "influencer",
    "unknown": "",
}

FOLLOWUP_USAGE = (
    "Usage: `/followup <prospect name>` drafts the follow-up email for that prospect from "
    "everything logged: the blocker that stands now, to the person who decides. Nothing is sent."
)
SENT_DRAFT_GONE = (
    "That draft is older than two weeks or was made for someone else, so I did not log it. "
    "Run `/followup <prospect>` for a fresh one, or log what you sent with `/log`."
)


def _day(value: date) -> str:
    return f"{value:%d %b}"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text, SECTION_TEXT)}


def _no_history(result: FollowupResult, header: dict[str, Any]) -> list[dict[str, Any]]:
    name = result.match.name
    blocks = [
        header,
        _section(
            f"*No history yet* with *{escape_mrkdwn(name)}*: log a call first, and the draft "
            "will be built from what you write down."
        ),
    ]
    if result.choices:
        blocks.append(_section("Did you mean:"))
        choices = [
            draft_button(choice, f"choice_{i}", choice)
            for i, choice in enumerate(result.choices[:5])
        ]
        blocks.append({"type": "actions", "elements": choices})
    blocks.append(
        {"type": "actions", "elements": [button("Log a call", ids.OPEN_LOG_ACTION, name)]}
    )
    return blocks


def _no_draft(result: FollowupResult, header_blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    name = result.match.name
    return [
        *header_blocks,
        _section(
            f"⚠️ *No draft this time:* {escape_mrkdwn(result.failure or 'the AI model failed')}"
            ". Nothing was made up in its place. The brief shows what memory holds."
        ),
        {
            "type": "actions",
            "elements": [
                button("Open the brief", f"{ids.OPEN_BRIEF_ACTION}_followup", name, True),
                button(
                    "Try again",
                    f"{ids.DRAFT_FOLLOWUP_ACTION}_retry",
                    followup_value(name, result.style),
                ),
            ],
        },
    ]


def _analysis_lines(analysis: Analysis, to: str) -> str:
    """The blocker, how it changed, who decides and who the email goes to."""
    cited = ", ".join(_day(d) for d in analysis.blocker_dates)
    lines = [f"*Current blocker:* {escape_mrkdwn(analysis.blocker)} _({cited})_"]
    if len(analysis.history) > 1:
        stages = " → ".join(escape_mrkdwn(s.blocker) for s in analysis.history)
        lines.append(f"*How it changed:* {stages} since {_day(analysis.history[-1].since)}")
    role = ROLES.get(analysis.decider_role, "")
    authority = " — ".join(
        part for part in (role, escape_mrkdwn(analysis.decider_authority)) if part
    )
    lines.append(
        f"*Who decides:* {escape_mrkdwn(analysis.decider)}"
        + (f" · {authority}" if authority else "")
        + f" _({_day(analysis.decider_date)})_"
    )
    lines.append(f"*To:* {escape_mrkdwn(to)} — {escape_mrkdwn(analysis.reason)}")
    return "\n".join(lines)


def _draft_notes(result: FollowupResult, removed: int) -> dict[str, Any]:
    notes = [
        "SalesMemory never sends email: copy it into yours, edit, send"
        + (", then press *Log as sent* so the next brief knows." if result.draft_id else ".")
    ]
    if removed:
        notes.append(
            f"{removed} sentence{'s' if removed > 1 else ''} taken out: "
            "it stated what no note holds."
        )
    return {"type": "context", "elements": [mrkdwn(" ".join(notes))]}


def _draft_actions(result: FollowupResult) -> dict[str, Any]:
    name = result.match.name
    sent = (
        [button("Log as sent", ids.LOG_FOLLOWUP_SENT_ACTION, result.draft_id, primary=True)]
        if result.draft_id
        else []
    )
    redrafts = [
        ("Shorter", "shorter", "shorter"),
        ("More formal", "formal", "formal"),
        ("Regenerate", "again", result.style),
    ]
    return {
        "type": "actions",
        "elements": [
            *sent,
            *(
                button(label, f"{ids.DRAFT_FOLLOWUP_ACTION}_{where}", followup_value(name, style))
                for label, where, style in redrafts
            ),
        ],
    }


def build_followup_blocks(result: FollowupResult) -> list[dict[str, Any]]:
    name = result.match.name
    header = {"type": "header", "text": plain(f"Follow-up · {name}", HEADER_TEXT)}
    if not result.has_history:
        return _no_history(result, header)
    header_blocks: list[dict[str, Any]] = [header]
    if result.teammates:
        # Said once under the header, whatever follows: the draft stands on the rep's calls.
        header_blocks.append(
            {"type": "context", "elements": [mrkdwn(teammates_note(result.teammates))]}
        )
    if result.analysis is None or result.draft is None:
        return _no_draft(result, header_blocks)
    draft = result.draft
    # One section per paragraph: a long email is never cut at a section's 3,000 characters.
    paragraphs = [p for p in draft.body.split("\n\n") if p.strip()][:MAX_PARAGRAPHS]
    return [
        *header_blocks,
        _section(_analysis_lines(result.analysis, draft.to)),
        {"type": "divider"},
        _section(f"*Subject:* {escape_mrkdwn(draft.subject)}"),
        *(
            _section("\n".join(f">{escape_mrkdwn(line)}" for line in p.split("\n")))
            for p in paragraphs
        ),
        _draft_notes(result, draft.removed),
        _draft_actions(result),
    ]
