"""Thin Bolt listeners: ack, check input, call a use case, send what a builder made.

Every listener is a module-level function; `ROUTES` says which request each one answers."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.blocks import ids
from bot.services import Services
from handlers import ask, brief, digest, followup, forget, home, log, people, stats, team, timeline
from handlers.slack_io import carry_services, explain_failure

logger = logging.getLogger(__name__)

# Which `AsyncApp` method registers a route: its name, as Bolt spells it.
Kind = Literal["command", "action", "options", "view", "event", "shortcut"]
Route = tuple[Kind, str | re.Pattern[str], Callable[..., Awaitable[None]]]


def _starting(action_id: str) -> re.Pattern[str]:
    """Action ids that start with `action_id` (the rest says where the button is)."""
    return re.compile(f"^{action_id}")


# Every command, action, option source, view, event and shortcut this app answers.
ROUTES: tuple[Route, ...] = (
    ("command", "/log", log.handle_log_command),
    ("action", ids.OPEN_LOG_ACTION, log.handle_open_log_button),
    ("options", ids.PROSPECT_ACTION, log.handle_prospect_typeahead),
    ("shortcut", ids.LOG_FROM_MESSAGE_SHORTCUT, log.handle_log_from_message),
    ("view", ids.LOG_MODAL_CALLBACK, log.handle_log_submission),
    ("command", "/brief", brief.handle_brief_command),
    ("action", _starting(ids.OPEN_BRIEF_ACTION), brief.handle_open_brief),
    ("event", "app_home_opened", home.handle_home_opened),
    ("action", ids.HOME_DIGEST_DAY_ACTION, home.handle_digest_day),
    ("action", ids.HOME_DIGEST_HOUR_ACTION, home.handle_digest_hour),
    ("action", ids.HOME_DIGEST_TOGGLE_ACTION, home.handle_digest_toggle),
    ("action", ids.HOME_DIGEST_NOW_ACTION, home.handle_digest_now),
    ("action", _starting(ids.HOME_PAGE_ACTION), home.handle_home_page),
    ("action", ids.HOME_SNOOZE_ACTION, home.handle_snooze_menu),
    ("view", ids.SNOOZE_MODAL_CALLBACK, home.handle_snooze_date),
    ("action", ids.HOME_ALERTS_TOGGLE_ACTION, home.handle_alerts_toggle),
    ("command", "/timeline", timeline.handle_timeline_command),
    ("action", _starting(ids.TIMELINE_PAGE_ACTION), timeline.handle_timeline_page),
    ("action", _starting(ids.OPEN_TIMELINE_ACTION), timeline.handle_open_timeline),
    ("command", "/followup", followup.handle_followup_command),
    ("action", _starting(ids.DRAFT_FOLLOWUP_ACTION), followup.handle_draft_followup),
    ("action", ids.LOG_FOLLOWUP_SENT_ACTION, followup.handle_log_followup_sent),
    ("command", "/forget", forget.handle_forget_command),
    ("action", _starting(ids.FORGET_REVIEW_ACTION), forget.handle_forget_review),
    ("view", ids.FORGET_MODAL_CALLBACK, forget.handle_forget_confirmed),
    ("command", "/digest", digest.handle_digest_command),
    ("command", "/salesmemory", stats.handle_salesmemory_command),
    ("command", "/team", team.handle_team_command),
    ("action", ids.HOME_TEAM_ACTION, team.handle_home_team),
    ("event", "user_change", people.handle_user_change),
    ("command", "/ask", ask.handle_ask_command),
    ("event", "message", ask.handle_direct_message),
    ("action", _starting(ids.ASK_FEEDBACK_ACTION), ask.handle_ask_feedback),
)


async def tell_rep_about_error(
    error: Exception, body: dict[str, Any], context: AsyncBoltContext
) -> None:
    """What a listener did not explain itself (see handlers.slack_io.explained)."""
    if body.get("type") == "block_suggestion":
        logger.error("Typeahead failed", exc_info=error)
        return
    await explain_failure(error, context, f"A {body.get('type') or 'command'} listener")


def register(app: AsyncApp, services: Services) -> None:
    """The services every listener reads, the error handler, then every route."""
    app.middleware(carry_services(services))
    app.error(tell_rep_about_error)
    # The assistant pane's events, and replies in a thread of the bot's DM, go here first.
    app.use(ask.assistant())
    for kind, matcher, listener in ROUTES:
        getattr(app, kind)(matcher)(listener)
