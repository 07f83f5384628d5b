"""The team view as one ephemeral message: trends with arrows, quiet deals per rep, closes by
last objection. Counts, rep mentions and prospect names only: never a note's text."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from bot.blocks.limits import HEADER_TEXT, SECTION_TEXT, escape_mrkdwn, label_name, mrkdwn, plain

if TYPE_CHECKING:
    # The result's types only: the view never imports the use case's I/O.
    from bot.team.summary import Closes, RepQuiet, TeamView, Trend

# Why the trends are missing, as the summary says it and the view explains it.
TEXT_ONLY, MEMORY_DOWN, REJECTED = "text_only", "memory_down", "rejected"

MOST_REPS_LISTED = 20
NAMES_PER_REP = 3

TEAM_REFUSED = (
    "The team view is for workspace admins and owners{group}. Nothing about other reps' "
    "deals is shown to you; your own pipeline is in the app's Home."
)
TREND_MISSING = {
    TEXT_ONLY: (
        "_Objection and competitor trends need memory that reasons: an LLM labels what each "
        "note says (`objection:pricing`). This memory server stores notes as text only, so "
        "below are what the calls themselves tell: quiet deals and closes._"
    ),
    REJECTED: (
        "_This memory server refused to list labelled facts by date, so objection and "
        "competitor trends are missing (the bot's log has its answer); quiet deals and closes "
        "below come from the calls logged here._"
    ),
    MEMORY_DOWN: (
        "_Memory is not answering, so objection and competitor trends are missing for now; "
        "quiet deals and closes below come from the calls logged here. Try again in a few "
        "minutes._"
    ),
}


def team_refusal(usergroup: str | None, problems: list[str]) -> str:
    """Why this user may not open the team view, and what Slack said if it could not tell."""
    group = ""
    if usergroup:
        shown = usergroup if usergroup.startswith(("S", "@")) else f"@{usergroup}"
        group = f" and members of the user group {escape_mrkdwn(shown)}"
    text = TEAM_REFUSED.format(group=group)
    if problems:
        text += f" (Slack could not tell: {'; '.join(problems)}. Try again in a minute"
        if usergroup:
            text += (
                "; if it persists, an admin may need to reinstall the app with the "
                "`usergroups:read` scope, or check TEAM_VIEW_USERGROUP"
            )
        text += ".)"
    return text


def _day(day: date) -> str:
    return day.strftime("%d %b")


def arrow(now: int, before: int) -> str:
    """Up, down or level against the four weeks before."""
    if now > before:
        return "↑"
    if now < before:
        return "↓"
    return "→"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _trend_line(name: str, trend: Trend) -> str:
    deals = f" ({_plural(trend.deals_now, 'deal')})" if trend.calls_now else ""
    return (
        f"• *{name}* — {_plural(trend.calls_now, 'call')}{deals} "
        f"{arrow(trend.calls_now, trend.calls_before)} from {trend.calls_before}"
    )


def _quiet_line(rep: RepQuiet, names_shown: bool) -> str:
    longest = rep.deals[0]
    line = (
        f"• <@{rep.rep_id}> — {_plural(len(rep.deals), 'quiet deal')}; most overdue "
        f"{longest.silence} days silent (usually every {longest.rhythm})"
    )
    if names_shown:
        shown = ", ".join(escape_mrkdwn(d.name) for d in rep.deals[:NAMES_PER_REP])
        more = len(rep.deals) - NAMES_PER_REP
        line += f": {shown}{f' and {more} more' if more > 0 else ''}"
    return line


def _close_line(close: Closes) -> str:
    name = label_name(close.kind) if close.kind else "No objection recorded"
    return f"• *{name}* — won {close.won} · lost {close.lost}"


def _sections(title: str, lines: list[str]) -> list[dict[str, Any]]:
    """The title and lines in as few sections as fit Slack's limit on a section's text."""
    sections: list[list[str]] = [[f"*{title}*"]]
    for line in lines:
        if len("\n".join([*sections[-1], line])) > SECTION_TEXT:
            sections.append([])
        sections[-1].append(line)
    return [{"type": "section", "text": mrkdwn("\n".join(part))} for part in sections]


def _trend_blocks(view: TeamView) -> list[dict[str, Any]]:
    """Objections and competitors, each against the 4 weeks before."""
    if view.trends_missing:
        return [{"type": "section", "text": mrkdwn(TREND_MISSING[view.trends_missing])}]
    lines = [_trend_line(label_name(t.kind), t) for t in view.objections]
    blocks = _sections(
        "Objections in the notes, most frequent first",
        lines or ["_Memory found no objection in these 8 weeks of notes._"],
    )
    if view.competitor is not None:
        blocks += _sections("Competitor mentions", [_trend_line("Competitors", view.competitor)])
    return blocks


def _quiet_blocks(view: TeamView) -> list[dict[str, Any]]:
    if not view.quiet:
        return _sections("Deals gone quiet, per rep", ["_No deal has gone quiet._"])
    lines = [_quiet_line(rep, view.names_shown) for rep in view.quiet[:MOST_REPS_LISTED]]
    if len(view.quiet) > MOST_REPS_LISTED:
        lines.append(f"…and {len(view.quiet) - MOST_REPS_LISTED} more reps.")
    calm = view.reps_checked - len(view.quiet)
    if calm:
        lines.append(f"_{_plural(calm, 'other rep')}: no quiet deal._")
    return _sections("Deals gone quiet, per rep", lines)


def _close_blocks(view: TeamView) -> list[dict[str, Any]]:
    won_now, won_before = view.won
    lost_now, lost_before = view.lost
    lines = [
        f"Won {won_now} {arrow(won_now, won_before)} from {won_before} · "
        f"lost {lost_now} {arrow(lost_now, lost_before)} from {lost_before}"
    ]
    if view.closes:
        lines.append("By the last objection raised before the close (8 weeks):")
        lines += [_close_line(close) for close in view.closes]
    return _sections("Deals closed", lines)


_COUNTS_ONLY = (
    "Counts only: no rep's notes are shown here. A call counts once per kind "
    "of objection its note mentions, raised or resolved; a close counts under "
    "each kind its last objection call mentioned; a follow-up email is not a "
    "call. Quiet means silent for longer than the deal's own rhythm; snoozed "
    "and closed deals are left out."
)


def build_team_blocks(view: TeamView) -> tuple[str, list[dict[str, Any]]]:
    """The fallback text and the blocks (well under a message's 50)."""
    period = (
        f"{_day(view.now.first)} – {_day(view.now.last)}, against "
        f"{_day(view.before.first)} – {_day(view.before.last)}"
    )
    summary = (
        f"{period}. {_plural(view.calls_now, 'call')} logged by "
        f"{_plural(view.reps_now, 'rep')} ({view.calls_before} the 4 weeks before)."
    )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain("👥 Team view: the last 4 weeks", HEADER_TEXT)},
        {"type": "context", "elements": [mrkdwn(summary)]},
        *_trend_blocks(view),
        *_quiet_blocks(view),
        *_close_blocks(view),
        {"type": "context", "elements": [mrkdwn(_COUNTS_ONLY)]},
    ]
    return f"Team view: {period}", blocks
