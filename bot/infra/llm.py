"""Groq, asked for JSON against a strict schema; every answer is checked before it is used.

Cheap first: a task marked cheap runs on the fast model (GROQ_MODEL_FAST) first; an answer that
fails the schema or the task's checks, or a fast model that refuses the request, escalates once
to the strong model (GROQ_MODEL), which gets one repair attempt. Every task's outcome (models,
escalation and why, latency, tokens) is logged and handed to a usage sink (the local index).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import groq
import jsonschema
from groq import AsyncGroq

from memory.records import LlmUsage
from prompts import load_schema, load_text

logger = logging.getLogger(__name__)

# Reasoning models think before answering: every task gets this much room for thinking on
# top of its answer's (too little and a model returns an empty answer after a 200).
THINKING_TOKENS = 4000
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_OPEN_THINK = re.compile(r"<think>", re.IGNORECASE)
# How long recording a task's usage may hold up its answer.
USAGE_RECORD_SECONDS = 1.0
_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")
EMPTY = "empty answer"
THOUGHT_OUT = "no answer: the model ran out of tokens while thinking"
NOT_JSON = "not JSON"


class LlmFailed(Exception):
    """No usable answer: `reason` says why in a rep's words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


AnswerCheck = Callable[[dict[str, Any]], list[str]]
# Makes a usable answer of one that matches the schema but fails the check (by taking out what
# the check objects to), or None when nothing can be saved.
Salvage = Callable[[dict[str, Any]], dict[str, Any] | None]


def parse_answer(
    content: str | None, schema: dict[str, Any], check: AnswerCheck | None = None
) -> tuple[dict[str, Any] | None, list[str]]:
    """The answer as a dict, or the problems with it (a `<think>` block and fences are dropped)."""
    answer, problems = decode_answer(content, schema)
    if answer is not None and check is not None:
        problems = check(answer)
    return (answer if not problems else None), problems


def decode_answer(
    content: str | None, schema: dict[str, Any]
) -> tuple[dict[str, Any] | None, list[str]]:
    """The answer as a dict if it matches the schema, else the problems with it."""
    text = _FENCE.sub("", _THINK.sub("", content or "").strip()).strip()
    if _OPEN_THINK.search(text):
        return None, [THOUGHT_OUT]
    if not text:
        return None, [EMPTY]
    try:
        answer = json.loads(text)
    except json.JSONDecodeError as error:
        return None, [f"{NOT_JSON} ({error.msg} at character {error.pos})"]
    validator = jsonschema.Draft202012Validator(schema)
    problems = [
        f"{'/'.join(str(p) for p in error.absolute_path) or 'answer'}: {error.message}"
        for error in list(validator.iter_errors(answer))[:5]
    ]
    return (answer if not problems else None), problems


def problem_kind(problems: list[str], checked: bool) -> str:
    """What went wrong with an answer, in a few fixed words: fit for a log line at INFO and
    the usage table, where the problems themselves (which quote the answer, and so the
    notes it was drawn from) may not go."""
    if checked:
        return "grounding failure"
    first = problems[0] if problems else EMPTY
    if first in (EMPTY, THOUGHT_OUT):
        return first
    if first.startswith(NOT_JSON):
        return NOT_JSON
    return "schema failure"


@dataclass(frozen=True)
class LlmTask:
    """One kind of question the bot asks: its name in logs and stats, whether the fast model
    may answer it first, and how many tokens its answer needs (thinking comes on top); with
    `system` and `schema` (files in prompts/), what it is told and the JSON schema its answer
    must match, named `schema_name` for the model."""

    name: str
    cheap: bool = False
    answer_tokens: int = 2000
    system: str = ""
    schema: str = ""
    schema_name: str = ""

    @property
    def max_tokens(self) -> int:
        return self.answer_tokens + THINKING_TOKENS


UsageSink = Callable[[LlmUsage], Awaitable[None]]


class _Unusable(Exception):
    """This model gave no usable answer, for `reason`; the strong model may still."""

    def __init__(self, reason: str, failure: LlmFailed) -> None:
        super().__init__(reason)
        self.reason = reason
        self.failure = failure


@dataclass
class _Tally:
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # The latest answer that matched the schema but failed the check, for `salvage`.
    last_checked_out: dict[str, Any] | None = None


@dataclass
class _Run:
    """One `complete_json`: what its usage record says, filled in as it goes."""

    task: LlmTask
    workspace_id: str
    model: str
    escalated: str | None = None  # why the fast model's answer was not used
    tally: _Tally = field(default_factory=_Tally)
    started: float = field(default_factory=time.monotonic)


def _salvaged(salvage: Salvage | None, tally: _Tally) -> dict[str, Any] | None:
    """The last answer that matched the schema made usable by `salvage`, if it can be."""
    if salvage is None or tally.last_checked_out is None:
        return None
    return salvage(tally.last_checked_out)


class LlmClient:
    """One `AsyncGroq` for the process; models, timeout and retries from settings."""

    def __init__(
        self,
        api_key: str,
        base_url: str | None,
        model: str,
        timeout: float,
        max_retries: int,
        fast_model: str | None = None,
        usage: UsageSink | None = None,
    ) -> None:
        self.model = model
        # No cascade when the fast model is unset or the same as the strong one.
        self.fast_model = fast_model if fast_model and fast_model != model else None
        self._usage = usage
        self._client = AsyncGroq(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )

    async def aclose(self) -> None:
        await self._client.close()

    async def run(
        self,
        task: LlmTask,
        user: str,
        workspace_id: str,
        check: AnswerCheck | None = None,
        salvage: Salvage | None = None,
    ) -> dict[str, Any]:
        """Ask `task`'s question of `user` (its prompt and schema come from prompts/): a
        checked answer, or `LlmFailed` with the reason the caller falls back on."""
        return await self.complete_json(
            load_text(task.system),
            user,
            task.schema_name or task.name,
            load_schema(task.schema),
            check,
            task=task,
            workspace_id=workspace_id,
            salvage=salvage,
        )

    async def complete_json(
        self,
        system: str,
        user: str,
        schema_name: str,
        schema: dict[str, Any],
        check: AnswerCheck | None = None,
        *,
        task: LlmTask | None = None,
        workspace_id: str = "",
        salvage: Salvage | None = None,
    ) -> dict[str, Any]:
        """A checked JSON answer, cheap first when `task` allows; `LlmFailed` otherwise.

        When every try fails the check, `salvage` may still make the last answer that matched
        the schema usable (e.g. with the claims that failed it taken out)."""
        run = _Run(task or LlmTask(schema_name), workspace_id, self.model)
        messages: list[dict[str, str]] = [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
        ]
        try:
            answer = await self._cascade(run, messages, schema_name, schema, check)
        except _Unusable as unusable:
            saved = _salvaged(salvage, run.tally)
            if saved is None:
                await self._record(run, False, unusable.reason)
                raise unusable.failure from None
            # Both reasons stay in the log: why it escalated, and why it needed saving.
            reason = f"salvaged after {unusable.reason}"
            await self._record(run, True, "; ".join(filter(None, [run.escalated, reason])))
            return saved
        except LlmFailed as failure:
            # The strong model could not be asked: a small model's answer may still be saved.
            saved = _salvaged(salvage, run.tally)
            if saved is not None:
                await self._record(run, True, f"{run.escalated}; salvaged after {failure.reason}")
                return saved
            await self._record(run, False, failure.reason)
            raise
        await self._record(run, True, run.escalated)
        return answer

    async def _cascade(
        self,
        run: _Run,
        messages: list[dict[str, str]],
        schema_name: str,
        schema: dict[str, Any],
        check: AnswerCheck | None,
    ) -> dict[str, Any]:
        """The fast model's answer when the task is cheap and it gives a usable one (no
        repair), else the strong model's (one repair); `run` keeps which and why."""
        task, tally = run.task, run.tally
        if task.cheap and self.fast_model is not None:
            run.model = self.fast_model
            try:
                return await self._answer(
                    run.model, messages, schema_name, schema, check, task, tally, repairs=0
                )
            except _Unusable as unusable:
                run.escalated = unusable.reason
                run.model = self.model
        return await self._answer(
            run.model, messages, schema_name, schema, check, task, tally, repairs=1
        )

    async def _record(self, run: _Run, ok: bool, reason: str | None) -> None:
        """Log how the answer went and hand its usage to the sink (never raises)."""
        usage = LlmUsage(
            workspace_id=run.workspace_id,
            task=run.task.name,
            model=run.model,
            ok=ok,
            escalated=run.escalated is not None,
            reason=reason,
            requests=run.tally.requests,
            latency_ms=round((time.monotonic() - run.started) * 1000),
            prompt_tokens=run.tally.prompt_tokens,
            completion_tokens=run.tally.completion_tokens,
        )
        await self.record_usage(usage)

    async def record_usage(self, usage: LlmUsage) -> None:
        """Log what a task cost and hand it to the usage sink (never raises); also for a
        task another model answered (memory's own, in reflect)."""
        said = (usage.task, usage.model, usage.ok, usage.escalated, usage.reason or "-")
        counts = (usage.requests, usage.latency_ms, usage.prompt_tokens, usage.completion_tokens)
        logger.info(
            "LLM task=%s model=%s ok=%s escalated=%s reason=%s requests=%d latency_ms=%d "
            "tokens=%d+%d",
            *said,
            *counts,
        )
        if self._usage is None:
            return
        try:
            await asyncio.wait_for(self._usage(usage), USAGE_RECORD_SECONDS)
        except Exception:
            logger.warning("Could not record the usage of a %s answer", usage.task)

    async def _answer(
        self,
        model: str,
        messages: list[dict[str, str]],
        schema_name: str,
        schema: dict[str, Any],
        check: AnswerCheck | None,
        task: LlmTask,
        tally: _Tally,
        repairs: int,
    ) -> dict[str, Any]:
        """`model`'s checked answer, with up to `repairs` more tries told what was wrong."""
        messages = list(messages)
        kind = EMPTY
        for attempt in range(repairs + 1):
            content = await self._create(model, messages, schema_name, schema, task, tally)
            answer, problems = decode_answer(content, schema)
            checked = False
            if answer is not None and check is not None:
                problems = check(answer)
                checked = True
                if problems:
                    tally.last_checked_out = answer
            if not problems and answer is not None:
                return answer
            kind = problem_kind(problems, checked)
            logger.warning(
                "%s answer %d from %s was invalid: %s", task.name, attempt + 1, model, kind
            )
            logger.debug("The invalid %s answer's problems: %s", task.name, "; ".join(problems))
            messages += [
                {"role": "assistant", "content": (content or "")[:8000]},
                {
                    "role": "user",
                    "content": "That answer was invalid: "
                    + "; ".join(problems)
                    + ". Reply again with only the JSON object that matches the schema.",
                },
            ]
        raise _Unusable(
            f"invalid answer: {kind}",
            LlmFailed("the model's answer could not be used"),
        )

    async def _create(
        self,
        model: str,
        messages: list[dict[str, str]],
        schema_name: str,
        schema: dict[str, Any],
        task: LlmTask,
        tally: _Tally,
    ) -> str | None:
        tally.requests += 1
        try:
            response = await self._client.chat.completions.create(  # type: ignore[call-overload]
                model=model,
                messages=messages,
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": schema_name, "schema": schema, "strict": True},
                },
                temperature=0.2,
                max_tokens=task.max_tokens,
            )
        except groq.APITimeoutError as error:
            logger.warning("Groq timed out: %s", error)
            raise LlmFailed("the AI model took too long to answer") from error
        except groq.APIConnectionError as error:
            logger.warning("Groq could not be reached: %s", error)
            raise LlmFailed("the AI model could not be reached") from error
        except groq.RateLimitError as error:
            # Groq's error bodies may quote the request or a failed generation (the notes):
            # only the status goes above DEBUG.
            logger.warning("Groq rate limit (HTTP 429) for %s after retries", model)
            logger.debug("Groq's 429 for %s: %s", model, error)
            raise _Unusable(
                f"{model} is over its rate limit (HTTP 429)",
                LlmFailed("the AI model is over its rate limit"),
            ) from error
        except groq.APIStatusError as error:
            logger.warning("Groq refused a request to %s (HTTP %s)", model, error.status_code)
            logger.debug("Groq's refusal from %s: %s", model, error)
            raise _Unusable(
                f"{model} answered HTTP {error.status_code}",
                LlmFailed("the AI model could not be reached"),
            ) from error
        usage = getattr(response, "usage", None)
        tally.prompt_tokens += int(getattr(usage, "prompt_tokens", 0) or 0)
        tally.completion_tokens += int(getattr(usage, "completion_tokens", 0) or 0)
        if not response.choices:
            return None
        return response.choices[0].message.content
