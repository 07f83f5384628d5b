"""The app in HTTP mode on a loopback port, with a loopback Slack Web API beside it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.app import create_app, create_web_app
from bot.blocks import ids
from bot.config import load_settings
from bot.infra.llm import LlmClient
from bot.log.calls import start_delivery
from bot.log.intake import confirmer
from bot.services import Services
from tests.support.fake_groq import FakeGroq
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SIGNING_SECRET, SlackSender


@dataclass
class RunningBot:
    slack: FakeSlack
    send: SlackSender
    services: Services
    base_url: str


@pytest.fixture
async def groq() -> AsyncIterator[FakeGroq]:
    """A loopback server standing in for Groq; tests script its answers."""
    server = FakeGroq()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def services_with_llm(services: Services, groq: FakeGroq) -> AsyncIterator[Services]:
    """The test's services with a real Groq client pointed at the loopback Groq."""
    llm = LlmClient("gsk-test", groq.base_url, "openai/gpt-oss-120b", timeout=1.0, max_retries=1)
    yield replace(services, llm=llm)
    await llm.aclose()


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack()
    await slack.start()
    yield slack
    await slack.close()


@dataclass
class BotServer:
    """The app's HTTP server and its delivery worker, as `serve()` runs them."""

    server: TestServer
    worker: asyncio.Task[None]
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def close(self) -> None:
        self.stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self.worker, 5)
        await self.server.close()


async def start_bot(slack: FakeSlack, services: Services) -> tuple[BotServer, RunningBot]:
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "HINDSIGHT_URL": "http://unused.invalid",
        }
    )
    app = create_app(settings, services)
    stop = asyncio.Event()
    worker = start_delivery(services, confirmer(app.client), stop)
    server = TestServer(create_web_app(app, services), host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    sender = SlackSender(base + "/slack/events", slack.response_url)
    return BotServer(server, worker, stop), RunningBot(slack, sender, services, base)


@pytest.fixture
async def bot(fake_slack: FakeSlack, services: Services) -> AsyncIterator[RunningBot]:
    server, running = await start_bot(fake_slack, services)
    yield running
    await server.close()


def filled_log_view(
    view: dict[str, Any],
    prospect: str,
    outcome: str = "positive",
    call_date: str = "2026-11-02",
    note: str = "",
    transcript: str = "",
    company: str = "",
) -> dict[str, Any]:
    """The modal Slack sends back on submit, with `view.state.values` as a rep filled it."""
    values: dict[str, Any] = {
        ids.PROSPECT_BLOCK: {
            ids.PROSPECT_ACTION: {
                "type": "external_select",
                "selected_option": (
                    {"text": {"type": "plain_text", "text": prospect}, "value": prospect}
                    if prospect
                    else None
                ),
            }
        },
        ids.COMPANY_BLOCK: {
            ids.COMPANY_ACTION: {"type": "plain_text_input", "value": company or None}
        },
        ids.OUTCOME_BLOCK: {
            ids.OUTCOME_ACTION: {
                "type": "static_select",
                "selected_option": {
                    "text": {"type": "plain_text", "text": outcome},
                    "value": outcome,
                },
            }
        },
        ids.DATE_BLOCK: {ids.DATE_ACTION: {"type": "datepicker", "selected_date": call_date}},
        ids.NOTE_BLOCK: {ids.NOTE_ACTION: {"type": "plain_text_input", "value": note or None}},
        ids.TRANSCRIPT_BLOCK: {
            ids.TRANSCRIPT_ACTION: {"type": "plain_text_input", "value": transcript or None}
        },
    }
    return {**view, "state": {"values": values}}
