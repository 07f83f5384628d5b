"""Memory's errors as the bot logs them: a refusal's body (which may echo the note that was
sent) stays out of the message and out of the traceback a log line would print."""

from __future__ import annotations

import traceback
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from memory.store import MemoryRejected, MemoryUnavailable, ProspectMemory

MARKER = "Zephyr-note-4410"


@pytest.fixture
async def refusing() -> AsyncIterator[dict[str, int]]:
    """A server that answers every request like a validation error quoting what it was sent."""
    status = {"code": 422}

    async def refuse(request: web.Request) -> web.Response:
        detail = [{"msg": "bad value", "input": f"the note said {MARKER}"}]
        return web.json_response({"detail": detail}, status=status["code"])

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", refuse)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    status["port"] = server.port or 0
    yield status
    await server.close()


@pytest.mark.parametrize(("code", "kind"), [(422, MemoryRejected), (500, MemoryUnavailable)])
async def test_a_refusal_quoting_the_note_leaves_it_out_of_the_error_and_its_traceback(
    refusing: dict[str, int], code: int, kind: type[Exception]
) -> None:
    refusing["code"] = code
    memory = ProspectMemory.connect(f"http://127.0.0.1:{refusing['port']}", "salesmemory")
    try:
        with pytest.raises(kind) as raised:
            await memory.timeline("T1", "vesna-horvat")
    finally:
        await memory.aclose()
    assert f"Hindsight answered {code}" in str(raised.value)
    printed = "".join(traceback.format_exception(raised.value))
    assert MARKER not in printed
