"""`/team`: the team view, for workspace admins and owners and the configured user group."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.team import build_team_blocks, team_refusal
from bot.services import Services
from bot.team import may_see_team, team_view
from handlers.slack_io import Rendered, explained, show_ephemeral, user_of, workspace_of


def register(app: AsyncApp, services: Services) -> None:
    @app.command("/team")
    @explained
    async def handle_team_command(
        ack: AsyncAck,
        command: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack(response_type="ephemeral", text="👥 Counting the team's last 8 weeks…")
        workspace_id, user_id = workspace_of(context), user_of(context)
        allowed, problems = await may_see_team(client, user_id, services.team_usergroup)
        if not allowed:
            await respond(
                text=team_refusal(services.team_usergroup, problems),
                response_type="ephemeral",
                replace_original=True,
            )
            return

        async def render() -> Rendered:
            tz = await services.timezones.zone(client, workspace_id, user_id)
            view = await team_view(services, workspace_id, services.today(tz))
            return build_team_blocks(view)

        await show_ephemeral(respond, "Team view", render(), True, services.busy_slots)
