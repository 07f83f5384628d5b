"""`python -m bot` runs the bot; `python -m bot digest --user U…` sends one rep's digest now."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from dotenv import dotenv_values

from bot.app import create_app, create_web_app, slack_client
from bot.calls import deliver_pending
from bot.config import Settings, SettingsError, load_settings
from bot.digest_delivery import Delivery, send_digest
from bot.llm import LlmClient
from bot.scheduler import DigestScheduler
from bot.services import Services
from memory.embedded import EmbeddedHindsight, EmbeddedMemoryError
from memory.index import LocalIndex
from memory.store import ProspectMemory

logger = logging.getLogger("bot")


def _environment() -> dict[str, str]:
    """The process environment over a `.env` file in the working directory."""
    file_values = {k: v for k, v in dotenv_values(".env").items() if v is not None}
    return {**file_values, **os.environ}


@asynccontextmanager
async def running_services(settings: Settings) -> AsyncIterator[Services]:
    """Memory (embedded when HINDSIGHT_URL is unset) and the local index, closed on exit."""
    embedded: EmbeddedHindsight | None = None
    url = settings.hindsight_url
    if url is None:
        embedded = EmbeddedHindsight(settings.home)
        logger.info(
            "HINDSIGHT_URL is not set: starting the embedded Hindsight in %s", embedded.home
        )
        url = await asyncio.to_thread(embedded.start)
    memory = ProspectMemory.connect(url, settings.bank_prefix, settings.hindsight_api_key)
    index = LocalIndex.open(settings.db_url)
    llm = None
    if settings.groq_api_key:
        llm = LlmClient(
            settings.groq_api_key,
            settings.groq_base_url,
            settings.groq_model,
            settings.groq_timeout,
            settings.groq_max_retries,
        )
    else:
        logger.warning("GROQ_API_KEY is not set: briefs will show memory only")
    try:
        yield Services(
            memory=memory, index=index, llm=llm, digest_token_budget=settings.digest_token_budget
        )
    finally:
        if llm is not None:
            await llm.aclose()
        await memory.aclose()
        index.close()
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set (by default: until SIGINT or SIGTERM)."""
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    async with running_services(settings) as services:
        app = create_app(settings, services)
        if not await services.memory.ping():
            logger.warning("Hindsight at startup is unreachable; calls will be kept locally")
        else:
            await deliver_pending(services)
        scheduler = None
        if settings.run_scheduler:
            scheduler = DigestScheduler(services, app.client, settings.db_url)
            scheduler.start()
            logger.info("This process runs the weekly digest scheduler")
        if settings.socket_mode:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            assert settings.slack_app_token is not None
            handler = AsyncSocketModeHandler(app, settings.slack_app_token)
            await handler.connect_async()
            logger.info("SalesMemory is running in Socket Mode")
            await stop.wait()
            await handler.close_async()
        else:
            runner = web.AppRunner(create_web_app(app, services))
            await runner.setup()
            await web.TCPSite(runner, "0.0.0.0", settings.port).start()
            logger.info(
                "SalesMemory is listening on :%d (POST /slack/events, GET /healthz)", settings.port
            )
            await stop.wait()
            await runner.cleanup()
        if scheduler is not None:
            scheduler.shutdown()
    logger.info("SalesMemory stopped")


async def digest_now(settings: Settings, rep_id: str) -> int:
    """`python -m bot digest --user U…`: that rep's digest, now, in their DMs."""
    async with running_services(settings) as services:
        client = slack_client(settings)
        team_id = (await client.auth_test())["team_id"]
        outcome = await send_digest(services, client, team_id, rep_id)
    print(f"digest for {rep_id}: {outcome.value}")
    return 0 if outcome in (Delivery.SENT, Delivery.NO_PROSPECTS) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    digest = commands.add_parser("digest", help="send one rep's weekly digest now")
    digest.add_argument("--user", required=True, help="the rep's Slack user id (U…)")
    args = parser.parse_args(argv)

    try:
        settings = load_settings(_environment())
    except SettingsError as error:
        for problem in error.problems:
            print(f"config error: {problem}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "digest":
        return asyncio.run(digest_now(settings, args.user))
    try:
        asyncio.run(serve(settings))
    except EmbeddedMemoryError as error:
        logger.error("The embedded memory server could not start: %s", error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
