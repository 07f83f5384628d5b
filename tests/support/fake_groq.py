"""A loopback HTTP server that answers like Groq's OpenAI-compatible chat completions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.config import DEFAULT_GROQ_MODEL, DEFAULT_GROQ_MODEL_FAST
from tests.support.rate_limit import PerSecondLimit

# What the server does with one request: answer JSON content, answer raw text, call a tool
# ((name, arguments)), answer an HTTP status (with Retry-After: 0), or hang for some seconds.
Behaviour = tuple[str, Any]


@dataclass
class FakeGroq:
    requests: list[dict[str, Any]] = field(default_factory=list)
    script: list[Behaviour] = field(default_factory=list)  # consumed in order
    default: Callable[[dict[str, Any]], Behaviour] | None = None
    limit: PerSecondLimit = field(default_factory=PerSecondLimit)  # 429 + retry-after past it
    latency: dict[str, float] = field(default_factory=dict)  # model -> seconds to answer
    # The one key accepted (others get 401, as Groq answers a wrong key); None: any key.
    api_key: str | None = None
    models: list[str] = field(
        default_factory=lambda: [DEFAULT_GROQ_MODEL, DEFAULT_GROQ_MODEL_FAST, "whisper-large-v3"]
    )
    _server: TestServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return str(self._server.make_url("")).rstrip("/")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/openai/v1/chat/completions", self._completions)
        app.router.add_get("/openai/v1/models", self._models)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()

    def user_prompt(self, index: int = 0) -> str:
        messages = self.requests[index]["messages"]
        return str(next(m["content"] for m in messages if m["role"] == "user"))

    def _refused(self, request: web.Request) -> web.Response | None:
        if self.api_key is None or request.headers.get("Authorization") == f"Bearer {self.api_key}":
            return None
        return web.json_response(
            {"error": {"message": "Invalid API Key", "type": "invalid_request_error"}}, status=401
        )

    async def _models(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        listed = [
            {"id": m, "object": "model", "owned_by": "test", "created": 0} for m in self.models
        ]
        return web.json_response({"object": "list", "data": listed})

    async def _completions(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        body = await request.json()
        if self.limit.over():
            return web.json_response(
                {"error": {"message": "rate limited"}}, status=429, headers={"retry-after": "1"}
            )
        self.requests.append(body)
        if (delay := self.latency.get(str(body.get("model")), 0.0)) > 0:
            await asyncio.sleep(delay)
        if self.script:
            kind, value = self.script.pop(0)
        elif self.default is not None:
            kind, value = self.default(body)
        else:
            kind, value = "status", 500
        if kind == "hang":
            await asyncio.sleep(value)
            kind, value = "text", "{}"
        if kind == "status":
            return web.json_response(
                {"error": {"message": "rate limited", "type": "tokens"}},
                status=value,
                headers={"retry-after": "0"},
            )
        return web.json_response(completion(body, kind, value, len(self.requests)))


def completion(body: dict[str, Any], kind: str, value: Any, n: int) -> dict[str, Any]:
    """A chat completion as Groq answers it: text, JSON content, or a tool call."""
    message: dict[str, Any]
    if kind == "tool":
        name, arguments = value
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": f"call_{n}",
                    "type": "function",
                    "function": {"name": name, "arguments": json.dumps(arguments)},
                }
            ],
        }
    else:
        content = json.dumps(value) if kind == "json" else str(value)
        message = {"role": "assistant", "content": content}
    # About four characters a token, as Groq counts English.
    prompt_tokens = sum(len(str(m.get("content") or "")) for m in body.get("messages", [])) // 4
    completion_tokens = len(json.dumps(message)) // 4
    return {
        "id": f"chatcmpl-{n}",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if kind == "tool" else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
