"""The App Home tab: the rep's pipeline at a glance, what needs them most first, with the weekly
digest's settings as controls above it. Paged within Block Kit's 100 blocks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bot.blocks import ids
from bot.blocks.limits import HEADER_TEXT, button, escape_mrkdwn, mrkdwn, plain
from bot.domain.rhythm import QuietDeal
from memory.index import DealHealth, DigestSetting, KnownProspect

HOME_BLOCKS = 100
PAGE_SIZE = 40  # two blocks each, and at most 20 above and below
BAR_CELLS = 10
DAY_OPTIONS = {
    "mon": "Mondays",
    "tue": "Tuesdays",
    "wed": "Wednesdays",
    "thu": "Thursdays",
    "fri": "Fridays",
    "sat": "Saturdays",
    "sun": "Sundays",
}
# A quiet-deal alert lists this many; the rest are counted and wait in Home.
MOST_DEALS_LISTED = 20
MOMENTUM = {"improving": "↗ improving", "stable": "→ stable", "declining": "↘ declining"}


@dataclass(frozen=True)
class PipelineRow:
    prospect: KnownProspect
    health: DealHealth | None  # None: no brief yet
    snoozed_until: date | None = None

    def silence(self, today: date) -> int | None:
        last = self.prospect.last_contact
        return None if last is None else max(0, (today - last).days)

    def overdue(self, today: date) -> bool:
        due = self.health.next_due if self.health else None
        return due is not None and due < today

    def need(self, today: date) -> float:
        """How much this deal needs the rep now: higher first. A deal at risk or with an
        overdue promise first, then low health and long silence weigh in."""
        if self.snoozed_until is not None:
            return -1.0  # resting: at the end, whatever else is true
        health = self.health
        score = health.score if health else 50
        need = (100 - score) + min(self.silence(today) or 0, 90)
        if health is not None and health.label == "At risk":
            need += 120
        if self.overdue(today):
            need += 100
        if health is not None and health.momentum == "declining":
            need += 20
        return need


@dataclass(frozen=True)
class HomeState:
    rows: list[PipelineRow]
    today: date
    setting: DigestSetting | None
    last_digest: datetime | None
    page: int = 0
    alerts_on: bool = True
    team_view: bool = False  # an admin, owner or member of TEAM_VIEW_USERGROUP


# Shown to those who may open the team view; it answers in their DM (Home has no thread).
TEAM_BLOCK: dict[str, Any] = {
    "type": "section",
    "text": mrkdwn(
        "👥 *Team view*: objection and competitor trends, deals gone quiet per rep, and closes "
        "across the workspace, the last 4 weeks against the 4 before. Counts only."
    ),
    "accessory": button("Open", ids.HOME_TEAM_ACTION, "team"),
}


def health_bar(score: int) -> str:
    """`score` (0–100) as ten cells, filled to the nearest tenth."""
    filled = max(0, min(BAR_CELLS, round(score / 100 * BAR_CELLS)))
    return "▰" * filled + "▱" * (BAR_CELLS - filled)


def ordered(rows: list[PipelineRow], today: date) -> list[PipelineRow]:
    return sorted(rows, key=lambda r: (-r.need(today), r.prospect.name.lower()))


def _days(count: int) -> str:
    return f"{count} day{'s' if count != 1 else ''}"


def _prospect_blocks(row: PipelineRow, today: date) -> list[dict[str, Any]]:
    p, health = row.prospect, row.health
    company = f" ({escape_mrkdwn(p.company)})" if p.company else ""
    if health is None:
        verdict = "_No brief yet_"
    else:
        momentum = MOMENTUM.get(health.momentum, "")
        verdict = (
            f"`{health_bar(health.score)}` *{health.score}* · {escape_mrkdwn(health.label)}"
            + (f" · {momentum}" if momentum else "")
            + f" _(brief of {health.briefed_on:%d %b})_"
        )
    facts = []
    silence = row.silence(today)
    if p.last_contact is not None and silence is not None:
        facts.append(f"last contact {p.last_contact:%d %b} ({_days(silence)} of silence)")
    facts.append(f"{p.interactions} call{'s' if p.interactions != 1 else ''}")
    if health is not None and health.open_commitments:
        open_ones = f"{health.open_commitments} open commitment" + (
            "s" if health.open_commitments != 1 else ""
        )
        if health.next_due is not None:
            late = " ⚠️ overdue" if row.overdue(today) else ""
            open_ones += f", next due {health.next_due:%d %b}{late}"
        facts.append(open_ones)
    if row.snoozed_until is not None:
        facts.append(f"😴 snoozed until {row.snoozed_until:%a %d %b}")
    return [
        {
            "type": "section",
            "text": mrkdwn(f"*{escape_mrkdwn(p.name)}*{company}\n{verdict}\n" + " · ".join(facts)),
        },
        {
            "type": "actions",
            "block_id": f"{ids.HOME_PROSPECT_BLOCK}{p.slug}",
            "elements": [
                button("Brief", f"{ids.OPEN_BRIEF_ACTION}_home", p.name, primary=True),
                button("Log a call", ids.OPEN_LOG_ACTION, p.name),
                button("Timeline", f"{ids.OPEN_TIMELINE_ACTION}_home", p.name),
                snooze_menu(row.snoozed_until is not None),
            ],
        },
    ]


SNOOZE_CHOICES = {"7": "Snooze 1 week", "14": "Snooze 2 weeks", "30": "Snooze a month"}


def snooze_menu(snoozed: bool = False) -> dict[str, Any]:
    """The Snooze menu of a prospect's row (its actions block id carries the slug)."""
    choices = [_option(text, value) for value, text in SNOOZE_CHOICES.items()]
    choices.append(_option("Snooze until a date…", "date"))
    if snoozed:
        choices.insert(0, _option("Wake up now", "wake"))
    return {"type": "overflow", "action_id": ids.HOME_SNOOZE_ACTION, "options": choices}


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text), "value": value}


def _digest_blocks(setting: DigestSetting | None, last: datetime | None) -> list[dict[str, Any]]:
    if setting is None:
        return [
            {
                "type": "section",
                "text": mrkdwn(
                    "*Weekly digest:* starts with the first call you log (Mondays at 08:00 your "
                    "time); change it here then."
                ),
            }
        ]
    state = "on" if setting.enabled else "*off*"
    when = f"{DAY_OPTIONS[setting.day]} at {setting.hour:02d}:00 ({escape_mrkdwn(setting.tz)})"
    sent = f" · last one {last:%a %d %b, %H:%M} UTC" if last else " · none sent yet"
    day: dict[str, Any] = {
        "type": "static_select",
        "action_id": ids.HOME_DIGEST_DAY_ACTION,
        "options": [_option(label, key) for key, label in DAY_OPTIONS.items()],
        "initial_option": _option(DAY_OPTIONS[setting.day], setting.day),
    }
    hour: dict[str, Any] = {
        "type": "static_select",
        "action_id": ids.HOME_DIGEST_HOUR_ACTION,
        "options": [_option(f"{h:02d}:00", str(h)) for h in range(24)],
        "initial_option": _option(f"{setting.hour:02d}:00", str(setting.hour)),
    }
    toggle = button(
        "Turn off" if setting.enabled else "Turn on",
        ids.HOME_DIGEST_TOGGLE_ACTION,
        "off" if setting.enabled else "on",
    )
    return [
        {"type": "section", "text": mrkdwn(f"*Weekly digest:* {state}, {when}{sent}")},
        {
            "type": "actions",
            "block_id": "digest_settings",
            "elements": [
                day,
                hour,
                toggle,
                button("Send my digest now", ids.HOME_DIGEST_NOW_ACTION, "now"),
            ],
        },
    ]


def _alerts_block(on: bool) -> dict[str, Any]:
    said = (
        "*Quiet-deal alerts:* on — one DM on a working-day morning when deals fall silent for "
        "longer than their usual rhythm."
        if on
        else "*Quiet-deal alerts:* *off*."
    )
    return {
        "type": "section",
        "text": mrkdwn(said),
        "accessory": button(
            "Turn off" if on else "Turn on", ids.HOME_ALERTS_TOGGLE_ACTION, "off" if on else "on"
        ),
    }


def build_home_view(state: HomeState) -> dict[str, Any]:
    today = state.today
    rows = ordered(state.rows, today)
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = max(0, min(state.page, pages - 1))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain("Your pipeline", HEADER_TEXT)},
        *_digest_blocks(state.setting, state.last_digest),
        _alerts_block(state.alerts_on),
        *([TEAM_BLOCK] if state.team_view else []),
        {"type": "divider"},
    ]
    if not rows:
        blocks.append(
            {
                "type": "section",
                "text": mrkdwn("No calls logged yet. Log your first call to start your memory."),
                "accessory": button("Log a call", ids.OPEN_LOG_ACTION, ""),
            }
        )
        return {"type": "home", "blocks": blocks}
    blocks.append(
        {
            "type": "context",
            "elements": [
                mrkdwn(
                    f"{len(rows)} prospect{'s' if len(rows) != 1 else ''}, what needs you most "
                    "first: at risk, overdue promises, low health, long silence. Health is the "
                    "latest brief's; `/brief <name>` renews it."
                )
            ],
        }
    )
    shown = rows[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    for row in shown:
        blocks += _prospect_blocks(row, today)
    if pages > 1:
        paging = []
        if page > 0:
            paging.append(button("◀ Previous", f"{ids.HOME_PAGE_ACTION}_prev", str(page - 1)))
        if page < pages - 1:
            paging.append(button("Next ▶", f"{ids.HOME_PAGE_ACTION}_next", str(page + 1)))
        blocks.append({"type": "context", "elements": [mrkdwn(f"Page {page + 1} of {pages}")]})
        blocks.append({"type": "actions", "block_id": "home_pages", "elements": paging})
    return {"type": "home", "blocks": blocks[:HOME_BLOCKS]}


def build_alert(deals: list[QuietDeal]) -> tuple[str, list[dict[str, Any]]]:
    """One DM listing every quiet deal, each with Brief and Snooze."""
    count = len(deals)
    text = f"{count} deal{'s have' if count != 1 else ' has'} gone quiet"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(f"🔕 {text}", HEADER_TEXT)},
        {
            "type": "context",
            "elements": [
                mrkdwn(
                    "Quiet means silent for longer than the deal's own rhythm (the usual gap "
                    "between its calls). Snooze a deal to stop hearing about it; turn these "
                    "alerts off in the app's Home."
                )
            ],
        },
    ]
    for deal in deals[:MOST_DEALS_LISTED]:
        blocks.append(
            {
                "type": "section",
                "text": mrkdwn(
                    f"*{escape_mrkdwn(deal.name)}* — {deal.silence} days since the last call; "
                    f"usually every {deal.rhythm} days"
                ),
            }
        )
        blocks.append(
            {
                "type": "actions",
                "block_id": f"{ids.HOME_PROSPECT_BLOCK}{deal.slug}",
                "elements": [
                    button("Brief", f"{ids.OPEN_BRIEF_ACTION}_alert", deal.name, primary=True),
                    snooze_menu(),
                ],
            }
        )
    if count > MOST_DEALS_LISTED:
        more = count - MOST_DEALS_LISTED
        blocks.append({"type": "context", "elements": [mrkdwn(f"…and {more} more in Home.")]})
    return text, blocks


def build_snooze_modal(name: str, slug: str, today: date) -> dict[str, Any]:
    """Asks until when to snooze the prospect (its slug rides in the private metadata)."""
    return {
        "type": "modal",
        "callback_id": ids.SNOOZE_MODAL_CALLBACK,
        "title": plain("Snooze a prospect"),
        "submit": plain("Snooze"),
        "close": plain("Cancel"),
        "private_metadata": slug,
        "blocks": [
            {
                "type": "input",
                "block_id": ids.SNOOZE_DATE_BLOCK,
                "label": plain(f"Snooze {name} until", 150),
                "hint": plain("No quiet-deal alert until then; the digest lists it as snoozed."),
                "element": {
                    "type": "datepicker",
                    "action_id": ids.SNOOZE_DATE_ACTION,
                    "initial_date": (today + timedelta(days=14)).isoformat(),
                },
            }
        ],
    }
