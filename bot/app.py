"""Building the Bolt app and the HTTP server around it; nothing is created at import time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.logger import get_bolt_logger
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import parse_body
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

import handlers
from bot.config import Settings
from bot.infra.request_guards import answer_requests_naming_no_one, retries_once
from bot.services import Services

logger = logging.getLogger(__name__)

READY_TIMEOUT = 3.0


def slack_client(settings: Settings) -> AsyncWebClient:
    """Slack's Web API at `SLACK_API_URL`; a 429 waits for `Retry-After` and tries again."""
    client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=5))
    return client


class _ClientTokenNotice(logging.Filter):
    """Drops Bolt's "As you gave `client` as well, `token` will be unused": Bolt reads
    SLACK_BOT_TOKEN from the environment by itself and warns that our client wins over it, but
    the client holds that very token (bot.config reads the environment over .env)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


def create_app(settings: Settings, services: Services) -> AsyncApp:
    """The Bolt app with every listener registered."""
    bolt_logger = get_bolt_logger(AsyncApp)
    notice = _ClientTokenNotice()
    bolt_logger.addFilter(notice)
    try:
        app = AsyncApp(
            client=slack_client(settings),
            signing_secret=settings.slack_signing_secret,
            # Socket Mode frames are authenticated by the app token, not signed.
            request_verification_enabled=not settings.socket_mode,
        )
    finally:
        bolt_logger.removeFilter(notice)
    app.middleware(answer_requests_naming_no_one)
    app.middleware(retries_once(services))
    # The listeners, their services and the error handler: all of them in `handlers`.
    handlers.register(app, services)
    return app


async def readiness(services: Services) -> dict[str, bool]:
    """Whether memory and the local database answer, each within a few seconds."""

    async def check(probe: Awaitable[bool]) -> bool:
        try:
            return bool(await asyncio.wait_for(probe, READY_TIMEOUT))
        except Exception:
            return False

    memory, database = await asyncio.gather(
        check(services.memory.ping()), check(services.index.ping())
    )
    return {"memory": memory, "database": database}


def health_routes(
    services: Services, scheduler_role: Callable[[], str] | None = None
) -> list[web.RouteDef]:
    """GET /healthz: the process is alive. GET /readyz: memory and the database answer, and
    (with `scheduler_role`) what this process does about the digest scheduler: "running",
    "standby", "no database", "off" or "starting"."""

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def readyz(request: web.Request) -> web.Response:
        parts = await readiness(services)
        ready = all(parts.values())
        # The scheduler is not a condition of readiness: a standby replica serves Slack fully.
        role = {"scheduler": str(scheduler_role())} if scheduler_role is not None else {}
        return web.json_response(
            {"status": "ready" if ready else "not ready", **parts, **role},
            status=200 if ready else 503,
        )

    return [web.get("/healthz", healthz), web.get("/readyz", readyz)]


def readable_body(body: str, content_type: str) -> bool:
    """Whether Bolt can read a request body: a JSON object, as such or in a form's `payload`
    field (anything else would fail inside Bolt as a 500)."""
    try:
        return isinstance(parse_body(body, content_type), dict)
    except ValueError:
        return False


def create_web_app(
    app: AsyncApp | None, services: Services, scheduler_role: Callable[[], str] | None = None
) -> web.Application:
    """HTTP mode: Slack's requests at POST /slack/events; health in both modes."""
    web_app = web.Application()
    web_app.add_routes(health_routes(services, scheduler_role))
    if app is not None:

        async def slack_events(request: web.Request) -> web.Response:
            if not readable_body(await request.text(), request.content_type):
                return web.Response(status=400, text="Not a Slack request body.")
            bolt_request: AsyncBoltRequest = await to_bolt_request(request)
            bolt_response = await app.async_dispatch(bolt_request)
            return await to_aiohttp_response(bolt_response)

        web_app.add_routes([web.post("/slack/events", slack_events)])
    return web_app
