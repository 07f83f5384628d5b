"""Checks of a configuration that need no memory server, each bounded to a few seconds.

`python -m bot check` runs them all and prints one line each; `python -m bot` runs the ones
that would otherwise fail late (the Slack tokens, the port) before it starts anything slow.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import aiohttp
import groq
from slack_sdk.errors import SlackApiError
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from bot.config import Settings, masked_url
from bot.infra.slack_checks import (
    SlackStartupError,
    ask_bot_token,
    check_app_token_once,
    check_bot_token,
    open_app_connection,
    unreachable,
)
from memory.database import database_url

logger = logging.getLogger(__name__)

# What one check may take: Slack, Groq, the memory server and the database are each given
# this long to answer, and the checks run side by side, so `check` ends within a few seconds.
CHECK_SECONDS = 3.0
# What `python -m bot` gives the app token before it starts the memory server.
START_CHECK_SECONDS = 4.0


class Status(StrEnum):
    OK = "ok"
    FAIL = "FAIL"
    WARN = "warn"  # works, with something missing
    INFO = "info"  # nothing to check, and why


@dataclass(frozen=True)
class Finding:
    status: Status
    name: str  # the variable (or thing) checked
    detail: str


class PortInUse(Exception):
    """HTTP mode cannot listen on PORT."""


def busy_port(port: int, error: OSError) -> str:
    """Why the web server cannot listen on PORT, and what to do."""
    if error.errno == errno.EACCES:
        return (
            f"PORT {port} cannot be listened on ({error.strerror}): set PORT to 1024 or above "
            "(a proxy in front can take 443)."
        )
    return (
        f"PORT {port} is not free ({error.strerror}): is another SalesMemory running? "
        "Stop it or set PORT to a free port."
    )


def port_problem(port: int) -> str | None:
    """Why PORT cannot be listened on (None: it can), asked the way the web server binds."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", port))
        except OSError as error:
            return busy_port(port, error)
    return None


async def before_serving(settings: Settings, stop: asyncio.Event) -> bool:
    """What `python -m bot` checks before it starts the memory server: the port in HTTP mode,
    the bot token, the app token in Socket Mode. A refused token raises SlackStartupError, a
    busy port PortInUse; Slack not answering only warns. False: stopped meanwhile."""
    if not settings.socket_mode and (problem := port_problem(settings.port)) is not None:
        raise PortInUse(problem)
    if not await check_bot_token(settings, stop):
        return False
    if settings.socket_mode:
        return await check_app_token_once(settings, stop, START_CHECK_SECONDS)
    return True


def _why(error: BaseException) -> str:
    """A short reason for no answer (aiohttp's own text runs to a line of its own)."""
    if isinstance(error, aiohttp.ClientConnectorError):
        return "cannot connect"
    if isinstance(error, TimeoutError | aiohttp.ServerTimeoutError):
        return f"no answer within {CHECK_SECONDS:.0f}s"
    return str(error) or type(error).__name__


def _slack_detail(error: Exception, settings: Settings) -> str:
    """Why a Slack check failed, and what to do."""
    if isinstance(error, SlackStartupError):
        return str(error).split(" was ", 1)[-1]  # "refused by Slack (code): what to do"
    if isinstance(error, SlackApiError):
        return f"Slack answered {error.response.get('error')}."
    if unreachable(error):
        return (
            f"Slack does not answer at {masked_url(settings.slack_api_url)} ({_why(error)}): "
            "check this machine's route to Slack (or SLACK_API_URL)."
        )
    return f"the check failed: {type(error).__name__}."


async def bot_token(settings: Settings) -> Finding:
    name = "SLACK_BOT_TOKEN"
    try:
        answer = await ask_bot_token(settings, CHECK_SECONDS)
    except Exception as error:
        return Finding(Status.FAIL, name, _slack_detail(error, settings))
    team = f"{answer.get('team') or 'workspace'} ({answer.get('team_id')})"
    return Finding(Status.OK, name, f"{team}, bot user {answer.get('user_id')}")


async def app_token(settings: Settings) -> Finding:
    name = "SLACK_APP_TOKEN"
    if not settings.socket_mode:
        return Finding(Status.INFO, name, "not set: HTTP mode, Slack posts to /slack/events")
    try:
        await open_app_connection(settings, CHECK_SECONDS)
    except Exception as error:
        return Finding(Status.FAIL, name, _slack_detail(error, settings))
    return Finding(Status.OK, name, "Socket Mode: Slack opens a connection for this app")


async def signing_secret(settings: Settings) -> Finding:
    name = "SLACK_SIGNING_SECRET"
    if settings.socket_mode:
        return Finding(Status.INFO, name, "not needed in Socket Mode")
    # Settings refuse HTTP mode without it: only Slack could tell whether it is the right one.
    return Finding(Status.OK, name, "set (checked on Slack's first request)")


async def groq_key(settings: Settings) -> Finding:
    """One request for the models the key may use; the configured ones must be among them."""
    name = "GROQ_API_KEY"
    if not settings.groq_api_key:
        return Finding(Status.INFO, name, "not set: briefs show memory only, without a summary")
    client = groq.AsyncGroq(
        api_key=settings.groq_api_key,
        base_url=settings.groq_base_url,
        timeout=CHECK_SECONDS,
        max_retries=0,
    )
    try:
        served = {model.id for model in (await client.models.list()).data}
    except (groq.AuthenticationError, groq.PermissionDeniedError) as error:
        return Finding(
            Status.FAIL,
            name,
            f"refused by Groq (HTTP {error.status_code}): create a key at "
            "https://console.groq.com/keys and set GROQ_API_KEY to it.",
        )
    except groq.APIStatusError as error:
        return Finding(Status.FAIL, name, f"Groq answered HTTP {error.status_code}.")
    except groq.APIConnectionError:
        where = masked_url(settings.groq_base_url or "https://api.groq.com")
        return Finding(
            Status.FAIL,
            name,
            f"Groq does not answer at {where}: check the route (or GROQ_BASE_URL).",
        )
    finally:
        await client.close()
    wanted = {"GROQ_MODEL": settings.groq_model, "GROQ_MODEL_FAST": settings.groq_model_fast}
    if settings.embedded_memory:
        wanted["HINDSIGHT_LLM_MODEL"] = settings.hindsight_llm_model
    missing = [f"{var}={model}" for var, model in wanted.items() if model not in served]
    if missing:
        return Finding(
            Status.FAIL,
            name,
            f"key accepted, but Groq does not serve {', '.join(missing)}: pick a model listed "
            "at https://console.groq.com/docs/models.",
        )
    return Finding(Status.OK, name, f"accepted; serves {', '.join(sorted(set(wanted.values())))}")


async def memory_server(settings: Settings) -> Finding:
    """An external memory server answers its health check, and takes HINDSIGHT_API_KEY."""
    name = "HINDSIGHT_URL"
    if settings.hindsight_url is None:
        home = settings.home / "hindsight"
        if (blocked := _unwritable(home)) is not None:
            return Finding(
                Status.FAIL,
                name,
                f"not set, and the bot's own memory server cannot be kept in {home}: {blocked} "
                "is not a writable folder (set SALESMEMORY_HOME to a folder this user owns).",
            )
        return Finding(
            Status.INFO, name, f"not set: the bot starts its own memory server in {home}"
        )
    url = settings.hindsight_url.rstrip("/")
    shown = masked_url(url)
    headers = {}
    if settings.hindsight_api_key:
        headers["Authorization"] = f"Bearer {settings.hindsight_api_key}"
    timeout = aiohttp.ClientTimeout(total=CHECK_SECONDS)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.get(f"{url}/health") as health:
                if health.status != 200:
                    return Finding(
                        Status.FAIL, name, f"{shown}/health answered HTTP {health.status}."
                    )
            # /health asks for no key: a request that does shows whether the key is right.
            async with session.get(f"{url}/v1/default/banks", headers=headers) as banks:
                status = banks.status
    except (aiohttp.ClientError, OSError, TimeoutError) as error:
        return Finding(Status.FAIL, name, f"no answer from {shown} ({_why(error)}): is it running?")
    if status in (401, 403):
        return Finding(
            Status.FAIL,
            "HINDSIGHT_API_KEY",
            f"refused by {shown} (HTTP {status}): set it to the key the memory server expects.",
        )
    if status != 200:
        return Finding(Status.FAIL, name, f"{shown} answered HTTP {status} with the key.")
    return Finding(Status.OK, name, f"{shown} answers" + (", key accepted" if headers else ""))


def _unwritable(path: Path) -> Path | None:
    """What stops `path` from being written or created (None: nothing does): a folder this
    user may not write in, or a file where a folder must be."""
    path = path.absolute()
    nearest = next(p for p in (path, *path.parents) if p.exists())
    if nearest != path and not nearest.is_dir():
        return nearest
    folder = nearest if nearest.is_dir() else nearest.parent
    return None if os.access(folder, os.W_OK | os.X_OK) else folder


def _database_detail(url: str) -> tuple[Status, str]:
    """SELECT 1 on a database, creating nothing (a SQLite file that is not there yet is only
    looked for a place to be created in)."""
    parsed = make_url(url)
    shown = masked_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(str(parsed.database))
        if not path.exists():
            if (blocked := _unwritable(path)) is not None:
                return (
                    Status.FAIL,
                    f"{shown}: cannot be created, {blocked} is not a writable folder.",
                )
            return Status.OK, f"{shown} (new: created on first start)"
    connect_args = {} if parsed.get_backend_name() == "sqlite" else {"connect_timeout": 3}
    engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0][:200]
        return Status.FAIL, f"{shown} does not answer: {reason}"
    finally:
        engine.dispose()
    return Status.OK, f"{shown} answers"


async def local_database(settings: Settings) -> Finding:
    status, detail = await asyncio.to_thread(_database_detail, settings.db_url)
    return Finding(status, "SALESMEMORY_DB_URL", detail)


async def memory_database(settings: Settings) -> Finding | None:
    """The external memory server's own PostgreSQL, when erasures are to purge it."""
    if settings.hindsight_database_url is None:
        return None
    url = database_url(settings.hindsight_database_url)
    status, detail = await asyncio.to_thread(_database_detail, url)
    return Finding(status, "HINDSIGHT_DATABASE_URL", detail)


async def port(settings: Settings) -> Finding:
    problem = port_problem(settings.port)
    if problem is None:
        return Finding(Status.OK, "PORT", f"{settings.port} is free")
    if settings.socket_mode:
        # In Socket Mode the port serves health checks only: the bot runs without them.
        busy = problem.split(": ", 1)[0].removeprefix("PORT ")
        return Finding(Status.WARN, "PORT", f"{busy}: the bot runs without health checks.")
    return Finding(Status.FAIL, "PORT", problem.removeprefix("PORT "))


CHECKS: tuple[Callable[[Settings], Awaitable[Finding | None]], ...] = (
    bot_token,
    app_token,
    signing_secret,
    groq_key,
    memory_server,
    memory_database,
    local_database,
    port,
)


async def _bounded(
    check: Callable[[Settings], Awaitable[Finding | None]], settings: Settings
) -> Finding | None:
    try:
        return await asyncio.wait_for(check(settings), CHECK_SECONDS + 1)
    except TimeoutError:
        return Finding(Status.FAIL, check.__name__, f"no answer within {CHECK_SECONDS + 1:.0f}s.")
    except Exception as error:
        # A check that breaks is one FAIL line, not a traceback over the others' lines; its
        # message may hold a secret (a URL with a password), so only its kind is shown.
        logger.debug("Check %s failed", check.__name__, exc_info=True)
        return Finding(Status.FAIL, check.__name__, f"the check failed: {type(error).__name__}.")


async def run_checks(settings: Settings) -> list[Finding]:
    """Every check, side by side; their findings in a fixed order."""
    found = await asyncio.gather(*(_bounded(check, settings) for check in CHECKS))
    return [finding for finding in found if finding is not None]


def settings_finding(settings: Settings, env_file: Path) -> Finding:
    mode = "Socket Mode" if settings.socket_mode else f"HTTP mode on port {settings.port}"
    source = (
        f"{env_file} and the environment" if env_file.exists() else "the environment (no .env here)"
    )
    return Finding(Status.OK, "settings", f"read from {source}; {mode}")


def problem_findings(problems: list[str]) -> list[Finding]:
    """Settings' problems ("NAME is …") as FAIL lines."""
    return [Finding(Status.FAIL, *problem.split(" ", 1)) for problem in problems]


def lines(findings: list[Finding]) -> list[str]:
    width = max(len(finding.name) for finding in findings)
    return [
        f"{finding.status:<4} {finding.name:<{width}}  {finding.detail}" for finding in findings
    ]
