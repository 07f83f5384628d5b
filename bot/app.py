"""Building the Bolt app and the HTTP server around it; nothing is created at import time."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

import handlers
from bot.config import Settings
from bot.services import Services

logger = logging.getLogger(__name__)


def slack_client(settings: Settings) -> AsyncWebClient:
    """Slack's Web API at `SLACK_API_URL`; a 429 waits for `Retry-After` and tries again."""
    client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=5))
    return client


def create_app(settings: Settings, services: Services) -> AsyncApp:
    """The Bolt app with every listener registered."""
    app = AsyncApp(
        client=slack_client(settings),
        signing_secret=settings.slack_signing_secret,
        # Socket Mode frames are authenticated by the app token, not signed.
        request_verification_enabled=not settings.socket_mode,
    )

    @app.error
    async def log_unhandled_error(error: Exception, body: dict[str, Any]) -> None:
        logger.error("Unhandled error in a listener (type=%s)", body.get("type"), exc_info=error)

    handlers.register(app, services)
    return app


def create_web_app(app: AsyncApp, services: Services) -> web.Application:
    """HTTP mode: Slack's requests at POST /slack/events, health at GET /healthz."""

    async def slack_events(request: web.Request) -> web.Response:
        bolt_response = await app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def healthz(request: web.Request) -> web.Response:
        reachable = await services.memory.ping()
        return web.json_response(
            {"status": "ok" if reachable else "degraded", "memory": reachable},
            status=200 if reachable else 503,
        )

    web_app = web.Application()
    web_app.add_routes([web.post("/slack/events", slack_events), web.get("/healthz", healthz)])
    return web_app
