"""Commands declared in the manifest whose flows are not built yet: an honest answer."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.blocks.messages import DIGEST_NOT_READY


def register(app: AsyncApp) -> None:
    @app.command("/digest")
    async def handle_digest_command(ack: AsyncAck) -> None:
        await ack(text=DIGEST_NOT_READY)
