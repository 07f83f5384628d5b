"""Asking memory, through three doors to one engine: `/ask <question>` (answered to the rep
alone), a direct message to the bot (answered in a thread), and Slack's assistant pane
(suggested prompts, a "thinking" status, answers in the thread). A follow-up in a thread is
read with the thread's earlier turns, so "and what did she say about pricing?" knows who."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_bolt.context.set_status.async_set_status import AsyncSetStatus
from slack_bolt.context.set_suggested_prompts.async_set_suggested_prompts import (
    AsyncSetSuggestedPrompts,
)
from slack_bolt.middleware.assistant.async_assistant import AsyncAssistant
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.ask.answer import AskAnswer, Turn
from bot.ask.engine import ask_memory, remember_answer
from bot.ask.feedback import record_feedback
from bot.ask.scope import MAX_QUESTION
from bot.ask.suggestions import suggested_prompts
from bot.ask.view import (
    answer_text,
    build_answer_blocks,
    memory_down_text,
    too_long_text,
    usage_text,
)
from bot.blocks.limits import quote_input
from bot.blocks.messages import STALE_BUTTON, something_broke
from bot.services import Services
from handlers.slack_io import explained, reference_id, services_of, user_of, workspace_of
from memory.store import MemoryUnavailable

logger = logging.getLogger(__name__)

THINKING = "is reading your notes…"
EARLIER_TURNS = 6  # of a thread, the latest questions and answers read with a follow-up


def refused(question: str) -> str | None:
    """What to say instead of answering: an empty question gets examples, a long one the limit."""
    if not question:
        return usage_text()
    if len(question) > MAX_QUESTION:
        return too_long_text(question)
    return None


async def answered(
    services: Services,
    client: AsyncWebClient,
    workspace_id: str,
    rep_id: str,
    question: str,
    earlier: list[Turn] | None = None,
) -> tuple[str, list[dict[str, Any]] | None, AskAnswer | None]:
    """The answer's text and blocks (and the answer); memory down or a failure is said
    plainly, with the question given back."""
    try:
        async with services.busy_slots:
            tz = await services.timezones.zone(client, workspace_id, rep_id)
            answer = await ask_memory(services, workspace_id, rep_id, question, tz, earlier or [])
    except MemoryUnavailable:
        logger.exception("Ask: memory unavailable")
        return memory_down_text(question), None, None
    except Exception:
        ref = reference_id()
        logger.exception("Ask failed (ref %s)", ref)
        broke = f"{something_broke(ref)}\nYour question: “{quote_input(question, 1500)}”"
        return broke, None, None
    return answer_text(answer), build_answer_blocks(answer), answer


@explained
async def handle_ask_command(
    ack: AsyncAck,
    command: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    question = command.get("text", "").strip()
    problem = refused(question)
    if problem is not None:
        await ack(response_type="ephemeral", text=problem)
        return
    await ack(response_type="ephemeral", text=f"🔎 Reading memory for “{quote_input(question)}”…")
    services = services_of(context)
    text, blocks, _ = await answered(
        services, client, workspace_of(context), user_of(context), question
    )
    await respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=True)


async def earlier_turns(
    client: AsyncWebClient, channel: str, thread_ts: str, before_ts: str, bot_user: str | None
) -> list[Turn]:
    """The thread's questions and answers before `before_ts`, oldest first (none when Slack
    will not say: the question is then read on its own)."""
    try:
        replies = await client.conversations_replies(channel=channel, ts=thread_ts, limit=50)
    except SlackApiError:
        logger.warning("Could not read an ask thread's earlier turns")
        return []
    turns: list[Turn] = []
    for message in replies.get("messages") or []:
        if float(message.get("ts") or 0) >= float(before_ts or 0):
            break
        text = str(message.get("text") or "")
        if message.get("bot_id") or (bot_user and message.get("user") == bot_user):
            if turns:
                turns[-1] = Turn(turns[-1].question, text)
        elif message.get("subtype") is None and text.strip():
            turns.append(Turn(text.strip()))
    return turns[-EARLIER_TURNS:]


async def answer_in_thread(
    context: AsyncBoltContext,
    client: AsyncWebClient,
    event: dict[str, Any],
    set_status: AsyncSetStatus | None = None,
) -> None:
    """Answer a message to the bot in its thread (a DM's first message starts one)."""
    question = str(event.get("text") or "").strip()
    channel, ts = str(event["channel"]), str(event["ts"])
    thread_ts = str(event.get("thread_ts") or ts)
    problem = refused(question)
    if problem is not None:
        await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=problem)
        return
    if set_status is not None:
        try:
            await set_status(THINKING)
        except SlackApiError:
            logger.info("Could not show the thinking status")  # a DM thread, not the pane
    earlier = []
    if thread_ts != ts:
        earlier = await earlier_turns(client, channel, thread_ts, ts, context.bot_user_id)
    services = services_of(context)
    text, blocks, answer = await answered(
        services, client, workspace_of(context), user_of(context), question, earlier
    )
    posted = await client.chat_postMessage(
        channel=channel, thread_ts=thread_ts, text=text, blocks=blocks
    )
    if answer is not None:
        await remember_answer(services, answer, str(posted["channel"]), str(posted["ts"]))


def _is_question_to_bot(event: dict[str, Any]) -> bool:
    """A rep's own message in the bot's DM: not an edit, a bot's message or a join."""
    return (
        event.get("channel_type") == "im"
        and event.get("subtype") is None
        and event.get("bot_id") is None
    )


@explained
async def handle_direct_message(
    ack: AsyncAck, event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    await ack()
    if _is_question_to_bot(event):
        await answer_in_thread(context, client, event)


async def handle_thread_started(
    context: AsyncBoltContext,
    payload: dict[str, Any],
    say: Any,
    set_suggested_prompts: AsyncSetSuggestedPrompts,
) -> None:
    """The assistant pane opened: a greeting and prompts built from the rep's own pipeline."""
    services = services_of(context)
    rep_id = str((payload.get("assistant_thread") or {}).get("user_id") or user_of(context))
    prompts = await suggested_prompts(services, workspace_of(context), rep_id)
    await say("Ask me anything about your prospects: every answer cites the notes it stands on.")
    await set_suggested_prompts(prompts=prompts)


async def handle_thread_context_changed(ack: AsyncAck) -> None:
    """The rep moved to another channel with the pane open: answers do not depend on it."""
    await ack()


async def handle_assistant_message(
    context: AsyncBoltContext,
    client: AsyncWebClient,
    payload: dict[str, Any],
    set_status: AsyncSetStatus,
) -> None:
    try:
        await answer_in_thread(context, client, payload, set_status)
    except Exception:
        ref = reference_id()
        logger.exception("Assistant answer failed (ref %s)", ref)
        await client.chat_postMessage(
            channel=payload["channel"],
            thread_ts=payload.get("thread_ts") or payload["ts"],
            text=something_broke(ref),
        )


@explained
async def handle_ask_feedback(
    ack: AsyncAck, action: dict[str, Any], context: AsyncBoltContext, respond: AsyncRespond
) -> None:
    """👍 / 👎 on an answer: a count per task, no text kept."""
    await ack()
    value = str(action.get("value"))
    if await record_feedback(services_of(context), workspace_of(context), value):
        text = f"Thanks, noted {'👍' if value == 'up' else '👎'}"
    else:
        text = STALE_BUTTON
    await respond(text=text, response_type="ephemeral", replace_original=False)


def assistant() -> AsyncAssistant:
    """The assistant pane's listeners (Bolt routes its events through this middleware)."""
    pane = AsyncAssistant()
    pane.thread_started(handle_thread_started)
    pane.thread_context_changed(handle_thread_context_changed)
    pane.user_message(handle_assistant_message)
    return pane
