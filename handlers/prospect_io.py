"""The two shapes every prospect feature shares: "/x <prospect>" and a button that opens a
prospect's brief, timeline or draft. The use case finds the prospect (or the names it may
have meant); the listener only says which answer to run."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.limits import quote_input
from bot.services import Services
from handlers.slack_io import (
    Reply,
    prospect_from_button,
    reply_to,
    services_of,
    user_of,
    workspace_of,
)


@dataclass(frozen=True)
class ProspectAsk:
    """A rep asking about one prospect: who, where, the name they typed, where the answer
    goes, and whether it replaces the message it was asked from."""

    services: Services
    client: AsyncWebClient
    reply: Reply
    workspace_id: str
    user_id: str
    typed: str
    replace: bool = False


Answer = Callable[[ProspectAsk], Awaitable[None]]


async def prospect_command(
    ack: AsyncAck,
    command: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
    *,
    usage: str,
    answer: Answer,
    working: str = "",
) -> None:
    """A "/x <prospect>" command: no name gets the usage at once; a name is acked (with
    `working`, a "{}" template for the quoted name, when the answer takes seconds; the answer
    then replaces it) and answered."""
    typed = command.get("text", "").strip()
    if not typed:
        await ack(text=usage)
        return
    if working:
        await ack(response_type="ephemeral", text=working.format(quote_input(typed)))
    else:
        await ack()
    await answer(
        ProspectAsk(
            services_of(context),
            client,
            respond,
            workspace_of(context),
            user_of(context),
            typed,
            replace=bool(working),
        )
    )


async def open_from_button(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
    *,
    answer: Answer,
) -> None:
    """A button carrying a prospect's name ("did you mean", App Home, a confirmation): the
    answer comes as a new message (to the rep's DM from App Home); a forged or stale name
    gets a short message instead."""
    await ack()
    user_id = user_of(context)
    reply = reply_to(body, respond, client, user_id)
    typed = await prospect_from_button(action, reply)
    if typed is None:
        return
    await answer(
        ProspectAsk(services_of(context), client, reply, workspace_of(context), user_id, typed)
    )
