"""Shared fixtures: one real Hindsight server per test session, a fresh bank per test."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.infra.memory_setup import sales_bank_setup
from bot.services import Services
from memory.embedded import EmbeddedHindsight, HindsightLlm, free_port
from memory.index import LocalIndex
from memory.store import ProspectMemory
from tests.support.hindsight_proxy import CapacityProxy
from tests.support.postgres import TestPostgres
from tests.support.threaded_groq import ThreadedGroq


@pytest.fixture(scope="session")
def hindsight_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[EmbeddedHindsight | None]:
    """The session's embedded Hindsight (its database too: `database_url()`), or None when
    SALESMEMORY_TEST_HINDSIGHT_URL names another server.

    Never skipped: if the server cannot start, every test that needs it fails.
    """
    if os.environ.get("SALESMEMORY_TEST_HINDSIGHT_URL"):
        yield None
        return
    server = EmbeddedHindsight(tmp_path_factory.mktemp("salesmemory-home"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def hindsight_url(hindsight_server: EmbeddedHindsight | None) -> str:
    """A real Hindsight: SALESMEMORY_TEST_HINDSIGHT_URL if given, else the embedded server."""
    if hindsight_server is None:
        return os.environ["SALESMEMORY_TEST_HINDSIGHT_URL"]
    assert hindsight_server.url is not None
    return hindsight_server.url


@pytest.fixture(scope="session")
def hindsight_api_key(hindsight_server: EmbeddedHindsight | None) -> str | None:
    """The key requests to `hindsight_url` carry (SALESMEMORY_TEST_HINDSIGHT_API_KEY for an
    external server)."""
    if hindsight_server is None:
        return os.environ.get("SALESMEMORY_TEST_HINDSIGHT_API_KEY")
    return hindsight_server.api_key


@pytest.fixture(scope="session")
def hindsight_access(hindsight_url: str, hindsight_api_key: str | None) -> dict[str, str]:
    """The settings a `python -m bot` process needs to use the session's Hindsight."""
    key = {"HINDSIGHT_API_KEY": hindsight_api_key} if hindsight_api_key else {}
    return {"HINDSIGHT_URL": hindsight_url, **key}


@pytest.fixture(scope="session")
def reasoning_groq() -> Iterator[ThreadedGroq]:
    """The loopback Groq the reasoning memory server extracts facts with."""
    groq = ThreadedGroq()
    groq.start()
    yield groq
    groq.close()


@pytest.fixture(scope="session")
def reasoning_hindsight_server(
    tmp_path_factory: pytest.TempPathFactory, reasoning_groq: ThreadedGroq
) -> Iterator[EmbeddedHindsight]:
    """A real Hindsight with an LLM (fact extraction, observations) pointed at the loopback
    Groq, as the bot runs it when GROQ_API_KEY is set. Never skipped."""
    llm = HindsightLlm("gsk-test", "openai/gpt-oss-20b", reasoning_groq.openai_base)
    server = EmbeddedHindsight(tmp_path_factory.mktemp("reasoning-home"), llm=llm)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def reasoning_hindsight_url(reasoning_hindsight_server: EmbeddedHindsight) -> str:
    assert reasoning_hindsight_server.url is not None
    return reasoning_hindsight_server.url


@contextlib.asynccontextmanager
async def own_bank_memory(
    url: str, server: EmbeddedHindsight | None, api_key: str | None = None
) -> AsyncIterator[ProspectMemory]:
    """Memory on a bank prefix of its own (no test sees another's notes), set up for sales
    and connected like the bot's (the embedded server's key and database)."""
    store = ProspectMemory.connect(
        url,
        f"test-{uuid.uuid4().hex[:12]}",
        server.api_key if server is not None else api_key,
        setup=sales_bank_setup(),
        database_url=server.database_url if server is not None else None,
    )
    yield store
    await store.aclose()


@pytest.fixture
async def reasoning_memory(
    reasoning_hindsight_url: str, reasoning_hindsight_server: EmbeddedHindsight
) -> AsyncIterator[ProspectMemory]:
    """Memory with an LLM that extracts facts and keeps observations."""
    async with own_bank_memory(reasoning_hindsight_url, reasoning_hindsight_server) as store:
        yield store


@pytest.fixture
async def memory(
    hindsight_url: str, hindsight_server: EmbeddedHindsight | None, hindsight_api_key: str | None
) -> AsyncIterator[ProspectMemory]:
    """Memory in chunks mode: notes as text and embeddings."""
    async with own_bank_memory(hindsight_url, hindsight_server, hindsight_api_key) as store:
        yield store


@pytest.fixture
async def capacity_proxy(
    hindsight_url: str, hindsight_api_key: str | None
) -> AsyncIterator[CapacityProxy]:
    """The real Hindsight behind a proxy that admits 2 retains at once (503 past that); it
    holds the server's key, as a sidecar would, so clients of the proxy need none."""
    proxy = CapacityProxy(hindsight_url, max_retains=2, api_key=hindsight_api_key)
    await proxy.start()
    yield proxy
    await proxy.close()


@pytest.fixture
async def unreachable_memory() -> AsyncIterator[ProspectMemory]:
    """Memory pointed at a port nothing listens on: Hindsight is down."""
    store = ProspectMemory.connect(f"http://127.0.0.1:{free_port()}", "down", timeout=2.0)
    yield store
    await store.aclose()


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestPostgres]:
    """A real PostgreSQL (pg0's) shared by the session; never skipped: if it cannot start,
    every test that needs it fails."""
    server = TestPostgres(tmp_path_factory.mktemp("postgres"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres: TestPostgres) -> str:
    """A fresh database of the session's PostgreSQL (postgresql+psycopg://…)."""
    return postgres.new_database()


@pytest.fixture
def index(tmp_path: Path) -> Iterator[LocalIndex]:
    local = LocalIndex.open(f"sqlite:///{tmp_path / 'index.db'}")
    yield local
    local.close()


# Tests run on a fixed "now", so dates in them never drift into the future.
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
def services(memory: ProspectMemory, index: LocalIndex) -> Services:
    return Services(memory=memory, index=index, clock=lambda: NOW)
