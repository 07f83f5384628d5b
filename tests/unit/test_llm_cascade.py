"""The cheap-first cascade, against a loopback server that answers like Groq."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.infra.llm import THINKING_TOKENS, LlmClient, LlmFailed, LlmTask
from memory.embedded import free_port
from memory.records import LlmUsage
from tests.support.fake_groq import FakeGroq

FAST, STRONG = "openai/gpt-oss-20b", "openai/gpt-oss-120b"
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"score": {"type": "integer"}, "label": {"type": "string"}},
    "required": ["score", "label"],
    "additionalProperties": False,
}
CHEAP = LlmTask("brief", cheap=True, answer_tokens=1000)
HARD = LlmTask("blocker", cheap=False, answer_tokens=1500)
GOOD = {"score": 70, "label": "Hot"}


@pytest.fixture
async def groq() -> AsyncIterator[FakeGroq]:
    server = FakeGroq()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def recorded() -> list[LlmUsage]:
    return []


@pytest.fixture
async def client(groq: FakeGroq, recorded: list[LlmUsage]) -> AsyncIterator[LlmClient]:
    async def keep(usage: LlmUsage) -> None:
        recorded.append(usage)

    llm = LlmClient("gsk-test", groq.base_url, STRONG, 5.0, 0, fast_model=FAST, usage=keep)
    yield llm
    await llm.aclose()


async def ask(client: LlmClient, task: LlmTask) -> dict[str, Any]:
    return await client.complete_json(
        "system", "user", "answer", SCHEMA, task=task, workspace_id="T1"
    )


def models(groq: FakeGroq) -> list[str]:
    return [request["model"] for request in groq.requests]


async def test_a_cheap_task_the_fast_model_answers_well_stays_on_it(
    client: LlmClient, groq: FakeGroq, recorded: list[LlmUsage]
) -> None:
    groq.script.append(("json", GOOD))
    assert await ask(client, CHEAP) == GOOD
    assert models(groq) == [FAST]
    assert groq.requests[0]["max_tokens"] == 1000 + THINKING_TOKENS
    [usage] = recorded
    assert (usage.task, usage.model, usage.ok, usage.escalated) == ("brief", FAST, True, False)
    assert usage.workspace_id == "T1" and usage.requests == 1
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0


async def test_a_schema_breaking_fast_answer_escalates_once_and_the_log_says_why(
    client: LlmClient, groq: FakeGroq, recorded: list[LlmUsage], caplog: pytest.LogCaptureFixture
) -> None:
    groq.script += [("json", {"score": "seventy"}), ("json", GOOD)]
    with caplog.at_level(logging.INFO, logger="bot.infra.llm"):
        assert await ask(client, CHEAP) == GOOD
    assert models(groq) == [FAST, STRONG]
    # The strong model starts afresh: it is not shown the fast model's bad answer.
    assert len(groq.requests[1]["messages"]) == 2
    [usage] = recorded
    assert usage.model == STRONG and usage.ok and usage.escalated
    # A category only: the schema's complaint quotes the answer (and so the notes).
    assert usage.reason == "invalid answer: schema failure"
    assert usage.requests == 2
    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("LLM task="))
    assert f"model={STRONG}" in line and "escalated=True" in line and "invalid answer" in line


@pytest.mark.parametrize(
    ("fast_answer", "why"),
    [
        (("text", "<think>" + "hmm, the budget… " * 50), "ran out of tokens while thinking"),
        (("text", "<think>only thinking</think>"), "empty answer"),
        (("status", 400), "answered HTTP 400"),
        (("status", 429), "over its rate limit"),
    ],
)
async def test_a_fast_model_that_thinks_itself_out_or_refuses_escalates(
    client: LlmClient,
    groq: FakeGroq,
    recorded: list[LlmUsage],
    fast_answer: tuple[str, Any],
    why: str,
) -> None:
    groq.script += [fast_answer, ("json", GOOD)]
    assert await ask(client, CHEAP) == GOOD
    assert models(groq) == [FAST, STRONG]
    assert recorded[0].escalated and why in (recorded[0].reason or "")


async def test_a_task_not_marked_cheap_goes_to_the_strong_model_only(
    client: LlmClient, groq: FakeGroq, recorded: list[LlmUsage]
) -> None:
    groq.script.append(("json", GOOD))
    assert await ask(client, HARD) == GOOD
    assert models(groq) == [STRONG]
    assert groq.requests[0]["max_tokens"] == 1500 + THINKING_TOKENS
    assert not recorded[0].escalated


async def test_the_strong_model_gets_one_repair_then_the_task_fails_plainly(
    client: LlmClient, groq: FakeGroq, recorded: list[LlmUsage]
) -> None:
    groq.script += [("text", "prose"), ("text", "more prose"), ("json", {"score": 1})]
    with pytest.raises(LlmFailed) as failed:
        await ask(client, CHEAP)
    assert failed.value.reason == "the model's answer could not be used"
    assert models(groq) == [FAST, STRONG, STRONG]
    # The repair shows the strong model its own answer and what was wrong with it.
    assert "That answer was invalid" in groq.requests[2]["messages"][-1]["content"]
    [usage] = recorded
    assert not usage.ok and usage.escalated and usage.requests == 3


async def test_groq_unreachable_fails_at_once_without_escalating(recorded: list[LlmUsage]) -> None:
    async def keep(usage: LlmUsage) -> None:
        recorded.append(usage)

    down = LlmClient(
        "gsk", f"http://127.0.0.1:{free_port()}", STRONG, 2.0, 0, fast_model=FAST, usage=keep
    )
    try:
        with pytest.raises(LlmFailed) as failed:
            await ask(down, CHEAP)
    finally:
        await down.aclose()
    assert failed.value.reason == "the AI model could not be reached"
    [usage] = recorded
    assert usage.model == FAST and not usage.ok and not usage.escalated and usage.requests == 1


async def test_no_cascade_without_a_distinct_fast_model(groq: FakeGroq) -> None:
    llm = LlmClient("gsk", groq.base_url, STRONG, 5.0, 0, fast_model=STRONG)
    try:
        groq.script.append(("json", GOOD))
        assert await ask(llm, CHEAP) == GOOD
    finally:
        await llm.aclose()
    assert models(groq) == [STRONG]


async def test_a_usage_sink_that_fails_never_costs_the_answer(groq: FakeGroq) -> None:
    async def broken(usage: LlmUsage) -> None:
        raise RuntimeError("database is locked")

    llm = LlmClient("gsk", groq.base_url, STRONG, 5.0, 0, fast_model=FAST, usage=broken)
    try:
        groq.script.append(("json", GOOD))
        assert await ask(llm, CHEAP) == GOOD
    finally:
        await llm.aclose()


async def test_an_answer_that_keeps_failing_its_check_may_be_salvaged(
    client: LlmClient, groq: FakeGroq, recorded: list[LlmUsage]
) -> None:
    def no_invented_label(answer: dict[str, Any]) -> list[str]:
        return ["label is invented"] if answer["label"] == "Invented" else []

    def salvage(answer: dict[str, Any]) -> dict[str, Any]:
        return {**answer, "label": "Unknown"}

    groq.default = lambda body: ("json", {"score": 50, "label": "Invented"})
    answer = await client.complete_json(
        "system", "user", "answer", SCHEMA, no_invented_label, task=CHEAP, salvage=salvage
    )
    assert answer == {"score": 50, "label": "Unknown"}
    assert models(groq) == [FAST, STRONG, STRONG]
    [usage] = recorded
    assert usage.ok and usage.escalated
    assert usage.reason == (
        "invalid answer: grounding failure; salvaged after invalid answer: grounding failure"
    )


async def test_nothing_is_salvaged_from_answers_that_never_matched_the_schema(
    client: LlmClient, groq: FakeGroq
) -> None:
    groq.default = lambda body: ("text", "prose")
    with pytest.raises(LlmFailed):
        await client.complete_json(
            "system", "user", "answer", SCHEMA, task=CHEAP, salvage=lambda answer: answer
        )


async def test_a_small_answer_is_salvaged_when_the_large_model_times_out(
    groq: FakeGroq, recorded: list[LlmUsage]
) -> None:
    async def keep(usage: LlmUsage) -> None:
        recorded.append(usage)

    llm = LlmClient("gsk", groq.base_url, STRONG, 1.0, 0, fast_model=FAST, usage=keep)
    groq.script += [("json", {"score": 50, "label": "Invented"}), ("hang", 3)]
    try:
        answer = await llm.complete_json(
            "system",
            "user",
            "answer",
            SCHEMA,
            lambda a: ["label is invented"] if a["label"] == "Invented" else [],
            task=CHEAP,
            salvage=lambda a: {**a, "label": "Unknown"},
        )
    finally:
        await llm.aclose()
    assert answer == {"score": 50, "label": "Unknown"}
    assert recorded[0].ok and "took too long" in (recorded[0].reason or "")


async def test_answers_quoting_the_notes_reach_neither_info_logs_nor_the_usage_reason(
    client: LlmClient, groq: FakeGroq, recorded: list[LlmUsage], caplog: pytest.LogCaptureFixture
) -> None:
    marker = "Zanzibar-quote-7731"
    groq.script += [
        ("json", {"score": marker, "label": "Hot"}),  # the schema's complaint quotes the value
        ("json", {"score": 1, "label": marker}),  # the check's complaint quotes the label
        ("json", {"score": 1, "label": marker}),
    ]

    def grounded(answer: dict[str, Any]) -> list[str]:
        return [f"{answer['label']!r} is in no note"] if answer["label"] == marker else []

    with caplog.at_level(logging.DEBUG), pytest.raises(LlmFailed):
        await client.complete_json(
            "system", "user", "answer", SCHEMA, grounded, task=CHEAP, workspace_id="T1"
        )
    # The problems are still there for whoever turns DEBUG on.
    assert any(marker in r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.INFO and marker in r.getMessage()
    ]
    [usage] = recorded
    assert usage.reason == "invalid answer: grounding failure"
