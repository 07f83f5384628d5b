"""Groq, asked for JSON against a strict schema; every answer is checked before it is used."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

import groq
import jsonschema
from groq import AsyncGroq

logger = logging.getLogger(__name__)

# Reasoning models think before answering: leave room for both.
MAX_TOKENS = 6000
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")


class LlmFailed(Exception):
    """No usable answer: `reason` says why in a rep's words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


AnswerCheck = Callable[[dict[str, Any]], list[str]]


def parse_answer(
    content: str | None, schema: dict[str, Any], check: AnswerCheck | None = None
) -> tuple[dict[str, Any] | None, list[str]]:
    """The answer as a dict, or the problems with it (a `<think>` block and fences are dropped)."""
    text = _FENCE.sub("", _THINK.sub("", content or "").strip()).strip()
    try:
        answer = json.loads(text)
    except json.JSONDecodeError as error:
        return None, [f"not JSON ({error.msg} at character {error.pos})"]
    validator = jsonschema.Draft202012Validator(schema)
    problems = [
        f"{'/'.join(str(p) for p in error.absolute_path) or 'answer'}: {error.message}"
        for error in list(validator.iter_errors(answer))[:5]
    ]
    if not problems and check is not None:
        problems = check(answer)
    return (answer if not problems else None), problems


class LlmClient:
    """One `AsyncGroq` for the process; model, timeout and retries from settings."""

    def __init__(
        self, api_key: str, base_url: str | None, model: str, timeout: float, max_retries: int
    ) -> None:
        self.model = model
        self._client = AsyncGroq(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )

    async def aclose(self) -> None:
        await self._client.close()

    async def complete_json(
        self,
        system: str,
        user: str,
        schema_name: str,
        schema: dict[str, Any],
        check: AnswerCheck | None = None,
    ) -> dict[str, Any]:
        """A checked JSON answer; one repair attempt on a bad one; `LlmFailed` otherwise."""
        messages: list[dict[str, str]] = [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
        ]
        for attempt in range(2):
            content = await self._create(messages, schema_name, schema)
            answer, problems = parse_answer(content, schema, check)
            if answer is not None:
                return answer
            logger.warning("Model answer %d was invalid: %s", attempt + 1, "; ".join(problems))
            messages += [
                {"role": "assistant", "content": (content or "")[:8000]},
                {
                    "role": "user",
                    "content": "That answer was invalid: "
                    + "; ".join(problems)
                    + ". Reply again with only the JSON object that matches the schema.",
                },
            ]
        raise LlmFailed("the model's answer could not be used")

    async def _create(
        self, messages: list[dict[str, str]], schema_name: str, schema: dict[str, Any]
    ) -> str | None:
        try:
            response = await self._client.chat.completions.create(  # type: ignore[call-overload]
                model=self.model,
                messages=messages,
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": schema_name, "schema": schema, "strict": True},
                },
                temperature=0.2,
                max_tokens=MAX_TOKENS,
            )
        except groq.APITimeoutError as error:
            logger.warning("Groq timed out: %s", error)
            raise LlmFailed("the AI model took too long to answer") from error
        except groq.RateLimitError as error:
            logger.warning("Groq rate limit after retries: %s", error)
            raise LlmFailed("the AI model is over its rate limit") from error
        except (groq.APIStatusError, groq.APIConnectionError) as error:
            logger.exception("Groq request failed")
            raise LlmFailed("the AI model could not be reached") from error
        if not response.choices:
            return None
        return response.choices[0].message.content
