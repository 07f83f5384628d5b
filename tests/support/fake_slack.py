"""A loopback HTTP server that answers like Slack's Web API and records every call.

It also receives `response_url` posts at /respond/<id>, the way Slack's hooks endpoint does.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.support.rate_limit import PerSecondLimit

TEAM_ID = "T0TEST"
TEAM_NAME = "Test Workspace"
BOT_USER = "UBOT"


@dataclass
class SlackCall:
    method: str
    args: dict[str, Any]


@dataclass
class FakeSlack:
    """Start with `await start()`; `calls` holds every Web API call, `responses` every respond()."""

    calls: list[SlackCall] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # method -> Slack error code
    hang: set[str] = field(default_factory=set)  # methods that never answer
    timezones: dict[str, str] = field(default_factory=dict)
    gone_users: set[str] = field(default_factory=set)  # users.info says user_not_found
    admins: set[str] = field(default_factory=set)  # users.info says is_admin
    # usergroups.list / usergroups.users.list: group id -> (handle, members)
    usergroups: dict[str, tuple[str, set[str]]] = field(default_factory=dict)
    limit: PerSecondLimit = field(default_factory=PerSecondLimit)  # 429 + Retry-After past it
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    _ws: web.WebSocketResponse | None = None
    _server: TestServer | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    # (channel, ts) of every message posted and not deleted, for chat.delete.
    posted: set[tuple[str, str]] = field(default_factory=set)
    # (channel, thread ts) -> the thread's messages, oldest first, for conversations.replies:
    # the bot's replies are kept as posted; a rep's messages as `said` records them.
    threads: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    # method -> what runs once before Slack answers its next call, with its arguments: a
    # test stages what happens while a call is on its way.
    before_answer: dict[str, Callable[[dict[str, Any]], Awaitable[None]]] = field(
        default_factory=dict
    )

    @property
    def api_url(self) -> str:
        assert self._server is not None
        return str(self._server.make_url("/api/"))

    def response_url(self) -> str:
        assert self._server is not None
        return str(self._server.make_url(f"/respond/{next(self._ids)}"))

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{id}", self._respond)
        app.router.add_get("/socket", self._socket_mode)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()

    def called(self, method: str) -> list[dict[str, Any]]:
        """The arguments of each call of `method` ("respond": each response URL post)."""
        if method == "respond":
            return list(self.responses)
        return [c.args for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Any]:
        """Wait until `method` was called `count` times (responses: method == 'respond')."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            seen = self.responses if method == "respond" else self.called(method)
            if len(seen) >= count:
                return seen
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{method} was called {len(seen)} times, wanted {count}")
            await asyncio.sleep(0.02)

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            args.update(await request.json())
        elif request.method == "POST":
            args.update(await request.post())
            for key in ("view", "blocks"):
                if isinstance(args.get(key), str):
                    args[key] = json.loads(args[key])
        if self.limit.over():
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
            )
        self.calls.append(SlackCall(method, args))
        staged = self.before_answer.pop(method, None)
        if staged is not None:
            await staged(args)
        if method in self.hang:
            await asyncio.Event().wait()
        if method in self.errors:
            return web.json_response({"ok": False, "error": self.errors[method]})
        return web.json_response(self._answer(method, args))

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "team": TEAM_NAME,
                "team_id": TEAM_ID,
                "user_id": BOT_USER,
                "bot_id": "B1",
            }
        if method == "users.info":
            user = args.get("user", "")
            if user in self.gone_users:
                return {"ok": False, "error": "user_not_found"}
            return {
                "ok": True,
                "user": {
                    "id": user,
                    "tz": self.timezones.get(user, "UTC"),
                    "is_admin": user in self.admins,
                },
            }
        if method == "usergroups.list":
            groups = [{"id": gid, "handle": handle} for gid, (handle, _) in self.usergroups.items()]
            return {"ok": True, "usergroups": groups}
        if method == "usergroups.users.list":
            found = self.usergroups.get(str(args.get("usergroup", "")))
            if found is None:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": sorted(found[1])}
        if method == "apps.connections.open":
            assert self._server is not None
            return {"ok": True, "url": str(self._server.make_url("/socket")).replace("http", "ws")}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": f"D{args.get('users', '')}"}}
        if method == "views.open":
            view = dict(args.get("view") or {})
            return {"ok": True, "view": {**view, "id": f"V{next(self._ids)}"}}
        if method == "chat.getPermalink":
            ts = str(args.get("message_ts", "")).replace(".", "")
            return {
                "ok": True,
                "channel": args.get("channel"),
                "permalink": f"https://test.slack.com/archives/{args.get('channel')}/p{ts}",
            }
        if method in ("chat.postMessage", "chat.postEphemeral"):
            # As Slack does, a message to a user goes to the bot's DM with them (D…).
            channel = str(args.get("channel", ""))
            if channel[:1] in ("U", "W"):
                channel = f"D{channel}"
            ts = f"1.{next(self._ids)}"
            if method == "chat.postMessage":
                self.posted.add((channel, ts))
                if args.get("thread_ts"):
                    reply = {"ts": ts, "text": args.get("text", ""), "bot_id": "B1"}
                    self.said(channel, str(args["thread_ts"]), {**reply, "user": BOT_USER})
            return {"ok": True, "channel": channel, "ts": ts}
        if method == "conversations.replies":
            thread = self.threads.get((str(args.get("channel")), str(args.get("ts"))))
            if thread is None:
                return {"ok": False, "error": "thread_not_found"}
            return {"ok": True, "messages": thread, "has_more": False}
        if method == "chat.delete":
            message = (str(args.get("channel", "")), str(args.get("ts", "")))
            if message not in self.posted:
                return {"ok": False, "error": "message_not_found"}
            self.posted.discard(message)
            return {"ok": True, "channel": message[0], "ts": message[1]}
        return {"ok": True}

    def said(self, channel: str, thread_ts: str, message: dict[str, Any]) -> None:
        """Keep `message` in a thread, in the order the test and the bot post them (the
        bot's own ts values are counters, not times, so they are not sorted by)."""
        self.threads.setdefault((channel, thread_ts), []).append(message)

    async def send_envelope(self, envelope: dict[str, Any], timeout: float = 20.0) -> None:
        """Push a Socket Mode envelope to the connected app (waits for it to connect)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self._ws is None:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("the app never opened a Socket Mode connection")
            await asyncio.sleep(0.05)
        await self._ws.send_json(envelope)

    async def _socket_mode(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_json({"type": "hello", "num_connections": 1})
        self._ws = socket
        async for message in socket:
            self.socket_acks.append(json.loads(message.data))
        return socket

    async def _respond(self, request: web.Request) -> web.Response:
        self.responses.append(await request.json())
        return web.Response(text="ok")
