"""Typed settings, read once at start-up; every bad value is reported on its own line."""

from __future__ import annotations

import importlib.util
import os
import pwd
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from dotenv import dotenv_values
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.infra.access import USERGROUP_HANDLE, USERGROUP_ID
from memory.database import POSTGRESQL, POSTGRESQL_DRIVER, SUPPORTED_BACKENDS, database_url

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
# llama-3.3-70b-versatile was retired by Groq; this one serves strict structured outputs today.
DEFAULT_GROQ_MODEL = "openai/gpt-oss-120b"
# Asked first for the tasks a small model can do (bot.infra.llm): the strong one only on failure.
DEFAULT_GROQ_MODEL_FAST = "openai/gpt-oss-20b"
DEFAULT_BANK_PREFIX = "salesmemory"
# What the embedded memory server extracts facts with: small and cheap is enough for that.
DEFAULT_HINDSIGHT_LLM_MODEL = "openai/gpt-oss-20b"


class SettingsError(Exception):
    """Start-up configuration is missing or malformed; `problems` holds one line per variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str
    slack_app_token: str | None
    slack_signing_secret: str | None
    slack_api_url: str
    port: int
    groq_api_key: str | None
    groq_base_url: str | None
    groq_model: str
    groq_model_fast: str
    groq_timeout: float
    groq_max_retries: int
    hindsight_url: str | None
    hindsight_api_key: str | None
    # The external server's own PostgreSQL (compose.yaml sets it): an erasure purges there
    # what Hindsight's API cannot delete (entities only erased notes named). None: not reachable.
    hindsight_database_url: str | None
    home: Path
    db_url: str
    bank_prefix: str
    # Whether this process takes part in the election of the one process that runs the
    # digest scheduler (RUN_SCHEDULER=false: never; it only serves Slack).
    run_scheduler: bool
    notes_visibility: str  # "workspace" (team memory) or "own"
    digest_token_budget: int
    # Besides admins and owners, who may open the team view: a user group's ID or handle.
    team_view_usergroup: str | None = None
    log_level: str = "INFO"
    pg_user: str | None = None  # root without user namespaces: who runs PostgreSQL
    hindsight_llm_model: str = DEFAULT_HINDSIGHT_LLM_MODEL

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def embedded_memory(self) -> bool:
        return self.hindsight_url is None

    @property
    def job_store_url(self) -> str:
        """Where the scheduler keeps its jobs. With SQLite, a file of its own beside the index:
        APScheduler reads it synchronously, so a lock on the index must never reach it."""
        url = make_url(self.db_url)
        if url.get_backend_name() != "sqlite" or not url.database:
            return self.db_url
        path = Path(url.database)
        return str(url.set(database=str(path.with_name(path.stem + "-jobs" + path.suffix))))


def read_environment(env_file: str = ".env") -> dict[str, str]:
    """The process environment over a `.env` file in the working directory."""
    file_values = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
    return {**file_values, **os.environ}


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


# scheme://user:password@ up to the last @ (an unescaped @ or / in a password is common), and
# password=… in a query string.
_USERINFO_SECRET = re.compile(r"^(?P<head>[A-Za-z][\w+.-]*://[^:/@?#]*:).*@", re.DOTALL)
_QUERY_SECRET = re.compile(r"(?P<head>[?&](?:password|pass|pwd|secret|token)=)[^&#]*", re.I)


def masked_url(url: str) -> str:
    """`url` fit for a message or a log line: any password in it replaced by `***`. Works on
    malformed URLs too, which is when a setting's value is shown."""
    url = _QUERY_SECRET.sub(r"\g<head>***", url)
    masked = _USERINFO_SECRET.sub(r"\g<head>***@", url)
    userinfo, at, rest = url.rpartition("@")
    if masked == url and at and ":" in userinfo.split("//", 1)[-1]:
        # A password in a shape too broken to parse: none of the userinfo is shown.
        return "***@" + rest
    return masked


def _is_http_url(value: str) -> bool:
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


_ASYNC_DRIVERS = ("asyncpg", "psycopg_async", "aiosqlite", "pysqlite_async")


def _database_problem(url: str) -> str | None:
    """What is wrong with a local database URL, worded to follow the variable's name."""
    example = "(e.g. sqlite:///path/salesmemory.db or postgresql://user:password@host/db)"
    try:
        parsed = make_url(database_url(url)) if "://" in url else None
    except (ArgumentError, ValueError):
        parsed = None
    if parsed is None:
        return f"is malformed: {masked_url(url)!r} is not a database URL {example}."
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        return f"is malformed: {parsed.get_backend_name()!r} is not supported {example}."
    if parsed.get_driver_name() in _ASYNC_DRIVERS:
        return (
            f"is malformed: the {parsed.get_driver_name()} driver is async-only; "
            f"use postgresql+{POSTGRESQL_DRIVER}:// (or plain postgresql://)."
        )
    driver = parsed.get_driver_name()
    if parsed.get_backend_name() == POSTGRESQL and importlib.util.find_spec(driver) is None:
        return (
            f"needs the PostgreSQL driver {driver}, which is not installed: install the "
            "'postgresql' extra (pip install 'salesmemory-slack[postgresql]')."
        )
    return None


class _Reader:
    """The environment, read one variable at a time; every problem found is kept in order."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.problems: list[str] = []

    def get(self, name: str) -> str | None:
        value = self.environ.get(name, "").strip()
        return value or None

    def url(self, name: str, default: str | None = None) -> str | None:
        """An http(s) URL, or `default` when unset."""
        value = self.get(name) or default
        if value is not None and not _is_http_url(value):
            self.problems.append(
                f"{name} is malformed: {masked_url(value)!r} is not an http(s) URL."
            )
        return value

    def whole(self, name: str, default: int, ok: Callable[[int], bool], wanted: str) -> int:
        """A whole number `ok` accepts, or `default` when unset."""
        raw = self.get(name)
        if raw is None:
            return default
        if raw.isascii() and raw.isdigit() and ok(int(raw)):
            return int(raw)
        self.problems.append(f"{name} is malformed: {raw!r} is not {wanted}.")
        return default


def _slack(read: _Reader) -> dict[str, Any]:
    bot_token = read.get("SLACK_BOT_TOKEN")
    if bot_token is None:
        read.problems.append("SLACK_BOT_TOKEN is missing: set it to the app's bot token (xoxb-…).")
    elif not bot_token.startswith("xoxb-"):
        read.problems.append("SLACK_BOT_TOKEN is malformed: a bot token starts with 'xoxb-'.")
    app_token = read.get("SLACK_APP_TOKEN")
    if app_token is not None and not app_token.startswith("xapp-"):
        read.problems.append(
            "SLACK_APP_TOKEN is malformed: an app-level token starts with 'xapp-'."
        )
    signing_secret = read.get("SLACK_SIGNING_SECRET")
    if app_token is None and signing_secret is None:
        read.problems.append(
            "SLACK_SIGNING_SECRET is missing: HTTP mode (no SLACK_APP_TOKEN) needs it "
            "to verify Slack's requests."
        )
    slack_api_url = read.url("SLACK_API_URL", DEFAULT_SLACK_API_URL) or DEFAULT_SLACK_API_URL
    if _is_http_url(slack_api_url) and not slack_api_url.endswith("/"):
        slack_api_url += "/"
    port = read.whole("PORT", 3000, lambda n: 0 < n < 65536, "a port number (1–65535)")
    return {
        "slack_bot_token": bot_token or "",
        "slack_app_token": app_token,
        "slack_signing_secret": signing_secret,
        "slack_api_url": slack_api_url,
        "port": port,
    }


def _groq(read: _Reader) -> dict[str, Any]:
    groq_base_url = read.url("GROQ_BASE_URL")
    groq_timeout = 30.0
    raw_timeout = read.get("GROQ_TIMEOUT")
    if raw_timeout is not None:
        try:
            groq_timeout = float(raw_timeout)
        except ValueError:
            groq_timeout = -1.0
        if not 0 < groq_timeout <= 600:
            read.problems.append(
                f"GROQ_TIMEOUT is malformed: {raw_timeout!r} is not 0–600 seconds."
            )
    retries = read.whole("GROQ_MAX_RETRIES", 2, lambda n: n <= 10, "0–10")
    return {
        "groq_api_key": read.get("GROQ_API_KEY"),
        "groq_base_url": groq_base_url,
        "groq_model": read.get("GROQ_MODEL") or DEFAULT_GROQ_MODEL,
        "groq_model_fast": read.get("GROQ_MODEL_FAST") or DEFAULT_GROQ_MODEL_FAST,
        "groq_timeout": groq_timeout,
        "groq_max_retries": retries,
    }


def _memory(read: _Reader) -> dict[str, Any]:
    hindsight_url = read.url("HINDSIGHT_URL")
    hindsight_db = read.get("HINDSIGHT_DATABASE_URL")
    if hindsight_db is not None and not hindsight_db.startswith(("postgresql://", "postgres://")):
        read.problems.append(
            f"HINDSIGHT_DATABASE_URL is malformed: {masked_url(hindsight_db)!r} is not a "
            "postgresql:// URL."
        )
    home = Path(read.get("SALESMEMORY_HOME") or Path.home() / ".salesmemory").expanduser()
    db_url = read.get("SALESMEMORY_DB_URL") or f"sqlite:///{home / 'salesmemory.db'}"
    db_problem = _database_problem(db_url)
    if db_problem is None:
        db_url = database_url(db_url)
    else:
        read.problems.append(f"SALESMEMORY_DB_URL {db_problem}")
    bank_prefix = read.get("HINDSIGHT_BANK_PREFIX") or DEFAULT_BANK_PREFIX
    if not all(c.isalnum() or c in "-_" for c in bank_prefix):
        read.problems.append(
            f"HINDSIGHT_BANK_PREFIX is malformed: {bank_prefix!r} may hold only letters, "
            "digits, '-' and '_'."
        )
    return {
        "hindsight_url": hindsight_url,
        "hindsight_api_key": read.get("HINDSIGHT_API_KEY"),
        "hindsight_database_url": hindsight_db,
        "home": home,
        "db_url": db_url,
        "bank_prefix": bank_prefix,
        "hindsight_llm_model": read.get("HINDSIGHT_LLM_MODEL") or DEFAULT_HINDSIGHT_LLM_MODEL,
    }


def _team(read: _Reader) -> dict[str, Any]:
    """The digest's budget, who sees what, and who opens the team view."""
    budget = read.whole(
        "DIGEST_TOKEN_BUDGET", 24_000, lambda n: n >= 4000, "a number of tokens (4000 or more)"
    )
    notes_visibility = (read.get("NOTES_VISIBILITY") or "workspace").lower()
    if notes_visibility not in ("workspace", "own"):
        read.problems.append(
            f"NOTES_VISIBILITY is malformed: {notes_visibility!r} is not 'workspace' or 'own'."
        )
    group = read.get("TEAM_VIEW_USERGROUP")
    if group is not None and not (USERGROUP_ID.match(group) or USERGROUP_HANDLE.match(group)):
        read.problems.append(
            f"TEAM_VIEW_USERGROUP is malformed: {group!r} is not a user group's "
            "ID (S0…) or handle (@sales-managers)."
        )
    return {
        "digest_token_budget": budget,
        "notes_visibility": notes_visibility,
        "team_view_usergroup": group,
    }


def _process(read: _Reader) -> dict[str, Any]:
    """What this process runs and logs, and who runs its embedded PostgreSQL."""
    raw_scheduler = (read.get("RUN_SCHEDULER") or "true").lower()
    if raw_scheduler not in ("true", "false", "1", "0", "yes", "no"):
        read.problems.append(f"RUN_SCHEDULER is malformed: {raw_scheduler!r} is not true or false.")
    log_level = (read.get("LOG_LEVEL") or "INFO").upper()
    if log_level not in _LOG_LEVELS:
        read.problems.append(
            f"LOG_LEVEL is malformed: {log_level!r} is not one of {', '.join(_LOG_LEVELS)}."
        )
    pg_user = read.get("SALESMEMORY_PG_USER")
    if pg_user is not None:
        try:
            pwd.getpwnam(pg_user)
        except KeyError:
            read.problems.append(
                f"SALESMEMORY_PG_USER is malformed: there is no user {pg_user!r} here."
            )
    return {
        "run_scheduler": raw_scheduler in ("true", "1", "yes"),
        "log_level": log_level,
        "pg_user": pg_user,
    }


def load_settings(environ: Mapping[str, str]) -> Settings:
    """`Settings` from an environment mapping, or `SettingsError` listing every problem."""
    read = _Reader(environ)
    values = {
        **_slack(read),
        **_groq(read),
        **_memory(read),
        **_team(read),
        **_process(read),
    }
    if read.problems:
        raise SettingsError(read.problems)
    return Settings(**values)
