"""A loopback proxy in front of the real Hindsight that admits at most N retains at once.

Past that it answers as Hindsight's own admission control does:
503 {"detail": "Server is at capacity for 'retain' (N concurrent); try again shortly."}
with `Retry-After`. It counts what reached it, so tests can see stampedes and repeats, and logs
every request, so tests can count reads too. `hold` makes the requests it picks wait (a slow
answer) until `release` is set.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class CapacityProxy:
    target: str
    max_retains: int = 2
    # Sent upstream on every request (a client's own Authorization header is kept).
    api_key: str | None = None
    retry_after: str = "1"
    rejected: int = 0
    in_flight: int = 0
    peak_in_flight: int = 0
    retained: Counter[str] = field(default_factory=Counter)  # document id -> accepted retains
    refuse: set[str] = field(default_factory=set)  # document ids answered 422, as invalid input
    refuse_delete: set[str] = field(default_factory=set)  # their deletion is answered 403
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path) as received
    # Requests it picks, given (method, path with query, body), wait until `release` is set.
    hold: Callable[[str, str, bytes], bool] | None = None
    release: asyncio.Event = field(default_factory=asyncio.Event)
    held: int = 0
    _server: TestServer | None = None
    _session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return str(self._server.make_url("")).rstrip("/")

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append((request.method, request.path))
        if self.hold is not None and self.hold(request.method, request.path_qs, body):
            self.held += 1
            await self.release.wait()
        if request.method == "DELETE" and request.path.rsplit("/", 1)[-1] in self.refuse_delete:
            return web.json_response({"detail": "not allowed"}, status=403)
        is_retain = request.method == "POST" and request.path.endswith("/memories")
        if is_retain and self.in_flight >= self.max_retains:
            self.rejected += 1
            return web.json_response(
                {
                    "detail": f"Server is at capacity for 'retain' ({self.max_retains} "
                    "concurrent); try again shortly."
                },
                status=503,
                headers={"Retry-After": self.retry_after},
            )
        if is_retain and self.refuse & {
            str(item.get("document_id")) for item in json.loads(body).get("items", [])
        }:
            return web.json_response({"detail": "invalid item"}, status=422)
        if is_retain:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            assert self._session is not None
            headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
            if self.api_key is not None and "authorization" not in map(str.lower, headers):
                headers["Authorization"] = f"Bearer {self.api_key}"
            async with self._session.request(
                request.method, self.target + request.path_qs, data=body, headers=headers
            ) as upstream:
                payload = await upstream.read()
                if is_retain and upstream.status == 200:
                    for item in json.loads(body).get("items", []):
                        self.retained[str(item.get("document_id"))] += 1
                return web.Response(
                    body=payload,
                    status=upstream.status,
                    content_type=upstream.content_type,
                )
        finally:
            if is_retain:
                self.in_flight -= 1
