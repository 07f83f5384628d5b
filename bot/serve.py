"""The running bot: its services, the web server or Socket Mode connection, and an orderly
shutdown; and the one-off digest. `bot.__main__` checks the settings before any of it."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import create_app, create_web_app, slack_client
from bot.config import Settings, masked_url
from bot.digest.delivery import Delivery, send_digest
from bot.forget.erase import resume_in_background
from bot.infra.llm import LlmClient
from bot.infra.memory_setup import embedded_llm, sales_bank_setup
from bot.infra.preflight import PortInUse, busy_port
from bot.infra.refile import refile_in_background
from bot.infra.scheduler_duty import SchedulerDuty, SchedulerRole
from bot.infra.slack_checks import check_app_token
from bot.log.calls import start_delivery
from bot.log.intake import confirmer
from bot.scheduler import Scheduler
from bot.services import Services
from memory.embedded import EmbeddedHindsight, EmbeddedMemoryError
from memory.index import LocalIndex
from memory.scheduler_lock import scheduler_lock
from memory.store import MemoryUnavailable, ProspectMemory

logger = logging.getLogger("bot")

# Each shutdown step gets a bound, so SIGTERM or Ctrl-C ends the process within ~10 s: Slack
# side 2 s, then clients 1 s, then the embedded server (its stop() is bounded at ~5 s).
CLOSE_SLACK_SECONDS = 2.0
CLOSE_WORKER_SECONDS = 2.0
CLOSE_CLIENTS_SECONDS = 1.0


async def _bounded(step: str, work: Awaitable[Any], seconds: float) -> None:
    try:
        await asyncio.wait_for(work, seconds)
    except TimeoutError:
        logger.warning("Shutdown: %s took over %.0fs; going on without it", step, seconds)
    except Exception:
        logger.exception("Shutdown: %s failed", step)


def _fixed(url: str | None) -> Callable[[], str | None] | None:
    """A database URL given once, as the memory client asks for it (None: none)."""
    return None if url is None else lambda: url


@asynccontextmanager
async def running_services(
    settings: Settings, stop: asyncio.Event | None = None
) -> AsyncIterator[Services]:
    """Memory (embedded when HINDSIGHT_URL is unset) and the local index, closed on exit.

    With `stop`, this process supervises the embedded server it owns until `stop` is set.
    """
    embedded: EmbeddedHindsight | None = None
    supervisor: asyncio.Task[None] | None = None
    url = settings.hindsight_url
    if url is None:
        embedded, url, supervisor = await _start_embedded(settings, stop)
    memory = ProspectMemory.connect(
        url,
        settings.bank_prefix,
        # The embedded server takes only its home's key (another process on the same home,
        # `python -m bot digest`, reads the same file).
        embedded.api_key if embedded is not None else settings.hindsight_api_key,
        setup=sales_bank_setup(),
        database_url=embedded.database_url
        if embedded is not None
        else _fixed(settings.hindsight_database_url),
    )
    await _log_memory_mode(memory, url)
    index = LocalIndex.open(settings.db_url)
    llm = _llm_client(settings, index)
    try:
        yield Services(
            memory=memory,
            index=index,
            llm=llm,
            digest_token_budget=settings.digest_token_budget,
            notes_visibility=settings.notes_visibility,
            team_usergroup=settings.team_view_usergroup,
        )
    finally:
        if supervisor is not None:
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
        closing = [memory.aclose(), asyncio.to_thread(index.close)]
        if llm is not None:
            closing.append(llm.aclose())
        await _bounded("closing clients", asyncio.gather(*closing), CLOSE_CLIENTS_SECONDS)
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)


async def _start_embedded(
    settings: Settings, stop: asyncio.Event | None
) -> tuple[EmbeddedHindsight, str, asyncio.Task[None] | None]:
    """The embedded Hindsight started (or another process's found), its URL, and with
    `stop` the task that supervises it."""
    embedded = EmbeddedHindsight(
        settings.home, pg_user=settings.pg_user, llm=embedded_llm(settings)
    )
    logger.info("HINDSIGHT_URL is not set: using the embedded Hindsight in %s", embedded.home)
    starting = asyncio.ensure_future(asyncio.to_thread(embedded.start))
    try:
        if stop is not None:
            await _first_done(starting, stop)
            if stop.is_set() and not starting.done():
                # Asked to stop during start-up: stop() makes the start give up at once.
                await asyncio.to_thread(embedded.stop)
        url = await starting
    except BaseException:
        await asyncio.to_thread(embedded.stop)
        raise
    if not embedded.owner:
        logger.info("Another process owns the embedded Hindsight at %s; using it", masked_url(url))
    supervisor = None
    if stop is not None:
        # The owner restarts its server; a process using another's takes it over if that
        # owner exits.
        supervisor = asyncio.create_task(embedded.supervise(stop), name="memory-supervisor")
    return embedded, url, supervisor


def _llm_client(settings: Settings, index: LocalIndex) -> LlmClient | None:
    """Groq when its key is set (usage recorded in the index); None otherwise."""
    if not settings.groq_api_key:
        logger.warning("GROQ_API_KEY is not set: briefs will show memory only")
        return None
    return LlmClient(
        settings.groq_api_key,
        settings.groq_base_url,
        settings.groq_model,
        settings.groq_timeout,
        settings.groq_max_retries,
        fast_model=settings.groq_model_fast,
        usage=index.record_llm_usage,
    )


async def _log_memory_mode(memory: ProspectMemory, url: str) -> None:
    url = masked_url(url)
    try:
        reasons = await memory.reasons()
    except MemoryUnavailable:
        logger.warning("Hindsight at %s does not answer yet; calls will wait for it", url)
        return
    if reasons:
        logger.info("Hindsight at %s extracts facts and observations with its LLM", url)
    else:
        logger.info("Hindsight at %s stores notes as text only (no LLM: chunks mode)", url)


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Run until `stop` is set. The fast checks (`bot.infra.preflight.before_serving`) come
    first, from the caller: a wrong token or a busy port is reported before this starts."""
    try:
        await _serve(settings, stop)
    except EmbeddedMemoryError:
        if not stop.is_set():
            raise
        logger.info("Stopped during start-up")
        return
    logger.info("SalesMemory stopped")


async def _serve(settings: Settings, stop: asyncio.Event) -> None:
    async with running_services(settings, stop) as services:
        app = create_app(settings, services)
        worker = start_delivery(services, confirmer(app.client), stop)
        refiling = asyncio.create_task(refile_in_background(services, stop), name="refile")
        # Forgets memory was down for are finished when it is back (bot.forget.erase).
        forgetting = asyncio.create_task(
            resume_in_background(services, app.client, stop), name="forgets"
        )
        duty = scheduler_duty(settings, services, app.client)
        on_duty = None
        if duty is None:
            logger.info("RUN_SCHEDULER is false: this process never runs the digest scheduler")
        else:
            on_duty = asyncio.create_task(duty.run(stop), name="scheduler-duty")
        role = (lambda: duty.role) if duty is not None else (lambda: SchedulerRole.OFF)
        runner = web.AppRunner(
            create_web_app(None if settings.socket_mode else app, services, scheduler_role=role)
        )
        try:
            await runner.setup()
            freeze_startup_heap()
            await _listen(runner, settings)
            if settings.socket_mode:
                await _serve_socket_mode(app, settings, stop)
            else:
                logger.info(
                    "SalesMemory is listening on :%d (POST /slack/events, GET /healthz, "
                    "GET /readyz)",
                    settings.port,
                )
                await stop.wait()
        finally:
            stop.set()
            logger.info("Stopping: finishing in-flight work (calls are saved ahead anyway)")
            refiling.cancel()
            forgetting.cancel()
            await asyncio.gather(
                _bounded("closing the web server", runner.cleanup(), CLOSE_SLACK_SECONDS),
                _bounded("stopping delivery", worker, CLOSE_WORKER_SECONDS),
                return_exceptions=True,
            )
            with contextlib.suppress(asyncio.CancelledError):
                await refiling
            with contextlib.suppress(asyncio.CancelledError):
                await forgetting
            if on_duty is not None:
                await _bounded("stopping the digest scheduler", on_duty, CLOSE_WORKER_SECONDS)


def freeze_startup_heap() -> None:
    """What start-up made (modules, clients, the app) lives as long as the process: put out
    of the garbage collector's reach, so that a full collection in the middle of a burst of
    requests walks only what the requests made. Before, such a collection held the loop for
    about 90 ms, and every ack waiting behind it (see docs/benchmarks.md)."""
    gc.collect()
    gc.freeze()


def scheduler_duty(
    settings: Settings, services: Services, client: AsyncWebClient
) -> SchedulerDuty | None:
    """This process's part in electing the one that runs the digest scheduler (None when
    RUN_SCHEDULER=false): the database decides, through a lock on the job store's database."""
    if not settings.run_scheduler:
        return None

    async def start_scheduler() -> Scheduler:
        scheduler = Scheduler(services, client, settings.job_store_url)
        try:
            await scheduler.start()
        except BaseException:
            scheduler.shutdown()
            raise
        return scheduler

    return SchedulerDuty(scheduler_lock(settings.job_store_url), start_scheduler)


async def _listen(runner: web.AppRunner, settings: Settings) -> None:
    try:
        await web.TCPSite(runner, "0.0.0.0", settings.port).start()
    except OSError as error:
        if not settings.socket_mode:
            # Taken since the check before start-up.
            raise PortInUse(busy_port(settings.port, error)) from None
        # In Socket Mode the port only serves health checks: run without them.
        logger.error("Health checks are off: port %d is not free (%s)", settings.port, error)


async def _serve_socket_mode(app: Any, settings: Settings, stop: asyncio.Event) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    assert settings.slack_app_token is not None
    if not await check_app_token(settings, stop):
        return  # stopped while Slack was unreachable
    handler = AsyncSocketModeHandler(app, settings.slack_app_token)
    connecting = asyncio.create_task(handler.connect_async())
    try:
        await _first_done(connecting, stop)
        if not stop.is_set():
            logger.info("SalesMemory is running in Socket Mode")
            await stop.wait()
    finally:
        connecting.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await connecting
        await _bounded(
            "closing the Socket Mode connection", handler.close_async(), CLOSE_SLACK_SECONDS
        )


async def _first_done(task: asyncio.Future[Any], stop: asyncio.Event) -> None:
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()


async def digest_now(settings: Settings, rep_id: str) -> int:
    """`python -m bot digest --user U…`: that rep's digest, now, in their DMs."""
    async with running_services(settings) as services:
        client = slack_client(settings)
        team_id = (await client.auth_test())["team_id"]
        outcome = await send_digest(services, client, team_id, rep_id)
    print(f"digest for {rep_id}: {outcome.value}")
    return 0 if outcome in (Delivery.SENT, Delivery.NO_PROSPECTS) else 1
