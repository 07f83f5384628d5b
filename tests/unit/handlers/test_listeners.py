"""Listeners are module-level functions: each runs on its own, given what Bolt would pass
(an ack, a respond, a context carrying the app's services), with no app and no network."""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

import handlers
from bot.blocks import ids
from bot.blocks.messages import STALE_BUTTON
from bot.brief.view import BRIEF_USAGE
from bot.followup.view import FOLLOWUP_USAGE
from bot.forget.view import FORGET_USAGE
from bot.infra.llm import LlmClient
from bot.services import Services
from bot.timeline.view import TIMELINE_USAGE
from handlers import brief, followup, forget, log, stats, timeline
from handlers.prospect_io import ProspectAsk, open_from_button, prospect_command
from handlers.slack_io import carry_services, services_of
from memory.index import LocalIndex
from memory.records import LlmUsage
from tests.support.fake_slack import FakeSlack
from tests.unit.factories import CALL

NOW = datetime(2026, 11, 20, 10, tzinfo=UTC)


class Recorder:
    """Stands in for Bolt's `ack` or `respond`: keeps what each call was given."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, text: str = "", **kwargs: Any) -> None:
        self.calls.append({"text": text, **kwargs})


class Answers:
    """An `Answer` that keeps every ask it was given."""

    def __init__(self) -> None:
        self.asks: list[ProspectAsk] = []

    async def __call__(self, ask: ProspectAsk) -> None:
        self.asks.append(ask)


@pytest.fixture
def index(tmp_path: Path) -> Iterator[LocalIndex]:
    opened = LocalIndex.open(f"sqlite:///{tmp_path}/i.db")
    yield opened
    opened.close()


@pytest.fixture
def services(index: LocalIndex) -> Services:
    # No memory: nothing these listeners do before their answer reads it.
    return Services(memory=None, index=index, clock=lambda: NOW)  # type: ignore[arg-type]


def context_with(services: Services) -> AsyncBoltContext:
    return AsyncBoltContext({"team_id": "T1", "user_id": "U1", "services": services})


@pytest.mark.parametrize(
    ("listener", "usage"),
    [
        (brief.handle_brief_command, BRIEF_USAGE),
        (timeline.handle_timeline_command, TIMELINE_USAGE),
        (followup.handle_followup_command, FOLLOWUP_USAGE),
        (forget.handle_forget_command, FORGET_USAGE),
    ],
)
async def test_a_prospect_command_without_a_name_acks_with_its_usage(
    listener: Any, usage: str, services: Services
) -> None:
    ack, respond = Recorder(), Recorder()
    await listener(
        ack=ack,
        command={"text": "   "},
        context=context_with(services),
        client=None,
        respond=respond,
    )
    assert ack.calls == [{"text": usage}]
    assert respond.calls == []


async def test_a_named_prospect_is_acked_with_the_working_text_and_answered_in_its_place(
    services: Services,
) -> None:
    ack, respond, answers = Recorder(), Recorder(), Answers()
    await prospect_command(
        ack,
        {"text": "  Priya `Sharma` "},
        context_with(services),
        None,  # type: ignore[arg-type]
        respond,  # type: ignore[arg-type]
        usage="unused",
        working="Recalling {}…",
        answer=answers,
    )
    # The name is quoted as typed, but for what could break out of the sentence.
    assert ack.calls == [{"text": "Recalling Priya 'Sharma'…", "response_type": "ephemeral"}]
    [ask] = answers.asks
    assert (ask.services, ask.workspace_id, ask.user_id) == (services, "T1", "U1")
    assert (ask.typed, ask.reply, ask.replace) == ("Priya `Sharma`", respond, True)


async def test_without_a_working_text_the_ack_is_bare_and_the_answer_comes_as_a_new_message(
    services: Services,
) -> None:
    ack, answers = Recorder(), Answers()
    await prospect_command(
        ack,
        {"text": "Priya"},
        context_with(services),
        None,  # type: ignore[arg-type]
        Recorder(),  # type: ignore[arg-type]
        usage="unused",
        answer=answers,
    )
    assert ack.calls == [{"text": ""}]
    assert [(a.typed, a.replace) for a in answers.asks] == [("Priya", False)]


async def test_a_button_with_a_forged_name_says_it_is_stale_and_answers_nothing(
    services: Services,
) -> None:
    ack, respond, answers = Recorder(), Recorder(), Answers()
    await open_from_button(
        ack,
        {"value": "!!!"},
        {"response_url": "https://hooks.slack.test/1"},
        context_with(services),
        None,  # type: ignore[arg-type]
        respond,  # type: ignore[arg-type]
        answer=answers,
    )
    assert len(ack.calls) == 1
    assert [c["text"] for c in respond.calls] == [STALE_BUTTON]
    assert answers.asks == []


async def test_a_button_from_app_home_is_answered_in_the_reps_dm(
    services: Services, slack: tuple[FakeSlack, AsyncWebClient]
) -> None:
    fake, client = slack
    answers = Answers()
    await open_from_button(
        Recorder(),
        {"value": "Priya Sharma"},
        {},  # App Home's buttons carry no response URL
        context_with(services),
        client,
        Recorder(),  # type: ignore[arg-type]
        answer=answers,
    )
    [ask] = answers.asks
    assert (ask.typed, ask.replace) == ("Priya Sharma", False)
    await ask.reply(text="the brief")
    assert [(c["channel"], c["text"]) for c in fake.called("chat.postMessage")] == [
        ("U1", "the brief")
    ]


async def test_the_stats_listener_shows_this_weeks_usage_from_the_index(
    services: Services, index: LocalIndex
) -> None:
    await index.record_llm_usage(
        LlmUsage("T1", "brief", "large", True, False, None, 1, 900, 1000, 200, at=NOW)
    )
    # Never asked anything: only its model names are shown.
    llm = LlmClient("gsk-test", "http://127.0.0.1:9/v1", "large", 1.0, 0, fast_model="small")
    ack, respond = Recorder(), Recorder()
    try:
        await stats.handle_salesmemory_command(
            ack=ack,
            command={"text": "stats"},
            context=context_with(replace(services, llm=llm)),
            respond=respond,
        )
    finally:
        await llm.aclose()
    assert ack.calls == [{"text": ""}]
    [shown] = respond.calls
    assert shown["text"] == "Model usage, last 7 days: 1.2k tokens"


async def test_the_middleware_puts_the_services_where_listeners_find_them(
    services: Services,
) -> None:
    context = AsyncBoltContext({})
    with pytest.raises(RuntimeError, match="carries no services"):
        services_of(context)

    async def next_() -> None:
        assert services_of(context) is services

    await carry_services(services)(context=context, next=next_)
    assert services_of(context) is services


def test_every_route_is_a_module_level_listener_of_a_bolt_kind() -> None:
    kinds = {"command", "action", "options", "view", "event", "shortcut"}
    for kind, _, listener in handlers.ROUTES:
        assert kind in kinds and callable(getattr(AsyncApp, kind))
        actual = inspect.unwrap(listener)
        assert "<locals>" not in actual.__qualname__, actual.__qualname__
        assert inspect.iscoroutinefunction(actual)


async def test_the_prospect_typeahead_offers_known_names_from_the_index_then_the_typed_one(
    services: Services, index: LocalIndex
) -> None:
    await index.write_ahead(CALL)  # James Okafor, in T1
    ack = Recorder()
    await log.handle_prospect_typeahead(
        ack=ack, body={"value": "okaf"}, context=context_with(services)
    )
    [answered] = ack.calls
    assert [o["value"] for o in answered["options"]] == ["James Okafor", "okaf"]


async def test_log_opens_the_form_with_the_known_prospect_the_rep_meant(
    services: Services, index: LocalIndex, slack: tuple[FakeSlack, AsyncWebClient]
) -> None:
    fake, client = slack
    await index.write_ahead(CALL)
    respond = Recorder()
    await log.handle_log_command(
        ack=Recorder(),
        command={"text": "okafor", "trigger_id": "trig-1"},
        context=context_with(services),
        client=client,
        respond=respond,
    )
    [opened] = fake.called("views.open")
    assert opened["trigger_id"] == "trig-1"
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    assert view["callback_id"] == ids.LOG_MODAL_CALLBACK
    [prospect] = [b for b in view["blocks"] if b.get("block_id") == ids.PROSPECT_BLOCK]
    assert prospect["element"]["initial_option"]["value"] == "James Okafor"
    assert respond.calls == []  # opened, and the name was within the limit
