"""`/team` and App Home's "Team view" button: the team view, for workspace admins and owners
and the configured user group (asked of Slack afresh each time)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.services import Services
from bot.team.summary import team_view
from bot.team.view import build_team_blocks, team_refusal
from handlers.slack_io import (
    Rendered,
    Reply,
    explained,
    reply_to,
    services_of,
    show_ephemeral,
    user_of,
    workspace_of,
)


async def show_team(
    services: Services,
    client: AsyncWebClient,
    reply: Reply,
    workspace_id: str,
    user_id: str,
    replace: bool,
) -> None:
    """The team view to a user who may see it; a plain refusal to anyone else."""
    allowed, problems = await services.team_access.check(
        client, workspace_id, user_id, services.team_usergroup, fresh=True
    )
    if not allowed:
        await reply(
            text=team_refusal(services.team_usergroup, problems),
            response_type="ephemeral",
            replace_original=replace,
        )
        return

    async def render() -> Rendered:
        tz = await services.timezones.zone(client, workspace_id, user_id)
        view = await team_view(services, workspace_id, services.today(tz))
        return build_team_blocks(view)

    await show_ephemeral(reply, "Team view", render(), replace, services.busy_slots)


@explained
async def handle_team_command(
    ack: AsyncAck,
    command: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    await ack(response_type="ephemeral", text="👥 Counting the team's last 8 weeks…")
    await show_team(
        services_of(context), client, respond, workspace_of(context), user_of(context), True
    )


@explained
async def handle_home_team(
    ack: AsyncAck,
    body: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    await ack()
    user_id = user_of(context)
    # Home has no response URL: the view comes as a DM.
    reply = reply_to(body, respond, client, user_id)
    await show_team(services_of(context), client, reply, workspace_of(context), user_id, False)
