"""`/digest`: the weekly digest, on demand."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.digest_delivery import Delivery, send_digest
from bot.services import Services

REPLIES = {
    Delivery.SENT: "Your digest is in your DMs from SalesMemory.",
    Delivery.NO_PROSPECTS: "You have no prospects yet: I sent you a DM on how to start.",
    Delivery.REP_GONE: "Slack says your account is not active, so I couldn't send it.",
    Delivery.FAILED: "I couldn't build your digest just now. Please try `/digest` again in "
    "a few minutes.",
}


def register(app: AsyncApp, services: Services) -> None:
    @app.command("/digest")
    async def handle_digest_command(
        ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack(text="🗂️ Ranking your pipeline…")
        outcome = await send_digest(services, client, command["team_id"], command["user_id"])
        await respond(text=REPLIES[outcome], response_type="ephemeral", replace_original=True)
