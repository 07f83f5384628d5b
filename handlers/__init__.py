"""Thin Bolt listeners: ack, check input, call a use case, send what a builder made."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.services import Services
from handlers import brief, digest, followup, forget, home, log, people, stats, team, timeline


def register(app: AsyncApp, services: Services) -> None:
    """Every command, action, option source and view this app answers, in one place."""
    brief.register(app, services)
    home.register(app, services)
    log.register(app, services)
    timeline.register(app, services)
    digest.register(app, services)
    stats.register(app, services)
    followup.register(app, services)
    forget.register(app, services)
    team.register(app, services)
    people.register(app, services)
