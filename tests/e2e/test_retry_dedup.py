"""Slack's retry of a request runs once across replicas sharing one database, and across a
restart: the claim is a row in the local index, not a process's memory."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from bot.infra.request_guards import CLAIM_WAIT
from bot.services import Services
from memory.database import BUSY_TIMEOUT_SECONDS, database_url
from memory.index import LocalIndex
from memory.index_requests import KEEP_CLAIMS
from memory.store import ProspectMemory
from tests.conftest import NOW
from tests.e2e.conftest import BotServer, RunningBot, start_bot
from tests.support.fake_slack import FakeSlack

Replica = tuple[BotServer, RunningBot, LocalIndex]


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """One database for every replica of a test: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


class Replicas:
    """App instances on one shared database, each with its own engine as its own process
    would have; `close()` stops every one still running."""

    def __init__(self, db_url: str, slack: FakeSlack, memory: ProspectMemory) -> None:
        self.db_url, self.slack, self.memory = db_url, slack, memory
        self.running: list[Replica] = []

    async def start(self) -> Replica:
        index = LocalIndex.open(self.db_url)
        # The listener under test (/log opening its form) asks nothing of memory.
        services = Services(memory=self.memory, index=index, clock=lambda: NOW)
        server, bot = await start_bot(self.slack, services)
        self.running.append((server, bot, index))
        return self.running[-1]

    async def stop(self, replica: Replica) -> None:
        self.running.remove(replica)
        await replica[0].close()
        replica[2].close()

    async def close(self) -> None:
        for replica in list(self.running):
            await self.stop(replica)


@pytest.fixture
async def replicas(
    shared_db: str, fake_slack: FakeSlack, unreachable_memory: ProspectMemory
) -> AsyncIterator[Replicas]:
    started = Replicas(shared_db, fake_slack, unreachable_memory)
    yield started
    await started.close()


def handled_again(caplog: pytest.LogCaptureFixture) -> int:
    return sum("it was handled the first time" in r.getMessage() for r in caplog.records)


def opened_triggers(slack: FakeSlack) -> list[str]:
    return [call["trigger_id"] for call in slack.called("views.open")]


async def test_a_retry_reaching_another_replica_runs_once(
    replicas: Replicas, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    (_, first, _), (_, second, _) = await replicas.start(), await replicas.start()
    with caplog.at_level(logging.INFO):
        status, _ = await first.send.command("/log", trigger_id="trig-retried")
        assert status == 200
        await fake_slack.wait_for("views.open")

        for replica, retry in ((second, 1), (first, 2)):
            status, body = await replica.send.command(
                "/log", trigger_id="trig-retried", retry_num=retry
            )
            assert (status, body) == (200, "")
        # A positive sign both copies were answered, then new work on the other replica.
        assert handled_again(caplog) == 2
        await second.send.command("/log", trigger_id="trig-new")
        await fake_slack.wait_for("views.open", 2)
    assert opened_triggers(fake_slack) == ["trig-retried", "trig-new"]


async def test_a_retry_after_a_restart_runs_once(
    replicas: Replicas, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    before = await replicas.start()
    await before[1].send.command("/log", trigger_id="trig-before-restart")
    await fake_slack.wait_for("views.open")
    await replicas.stop(before)

    _, after, _ = await replicas.start()
    with caplog.at_level(logging.INFO):
        status, body = await after.send.command(
            "/log", trigger_id="trig-before-restart", retry_num=1
        )
        assert (status, body) == (200, "")
        assert handled_again(caplog) == 1
    await after.send.command("/log", trigger_id="trig-after-restart")
    await fake_slack.wait_for("views.open", 2)
    assert opened_triggers(fake_slack) == ["trig-before-restart", "trig-after-restart"]


async def test_claims_older_than_an_hour_are_pruned_as_new_ones_come(shared_db: str) -> None:
    index = LocalIndex.open(shared_db)
    try:
        assert await index.claim_request("trigger_id:old", NOW)
        assert not await index.claim_request("trigger_id:old", NOW + timedelta(minutes=5))
        # A later claim prunes what is past its hour, so the table stays small.
        later = NOW + KEEP_CLAIMS + timedelta(minutes=1)
        assert await index.claim_request("trigger_id:new", later)
        assert await index.claim_request("trigger_id:old", later)
    finally:
        index.close()


async def test_a_forged_long_trigger_id_is_still_claimed_once(
    replicas: Replicas, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    _, bot, _ = await replicas.start()
    trigger = "t" * 10_000  # wider than the key column: kept as its hash
    with caplog.at_level(logging.INFO):
        await bot.send.command("/log", trigger_id=trigger)
        await fake_slack.wait_for("views.open")
        status, body = await bot.send.command("/log", trigger_id=trigger, retry_num=1)
        assert (status, body) == (200, "")
        assert handled_again(caplog) == 1
    assert not any(r.levelno >= logging.WARNING for r in caplog.records)
    assert opened_triggers(fake_slack) == [trigger]


async def test_a_claim_on_a_locked_database_gives_up_within_its_own_short_wait(
    shared_db: str,
) -> None:
    index = LocalIndex.open(shared_db)
    claims = index.quick_claims(CLAIM_WAIT)
    # Another writer (another replica, a long erasure) holds the claims' table.
    locker = create_engine(database_url(shared_db))
    try:
        with locker.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.begin()
                conn.exec_driver_sql("LOCK TABLE handled_requests IN EXCLUSIVE MODE")
            started = time.monotonic()
            with pytest.raises(OperationalError):
                await claims.claim_request("trigger_id:locked", NOW)
            # The database itself gave up: no thread is left waiting out the index's usual
            # five seconds (the bound is generous for a loaded machine, well under that).
            assert time.monotonic() - started < BUSY_TIMEOUT_SECONDS / 2
            conn.rollback()
        # The lock gone, the same claim goes through, once.
        assert await claims.claim_request("trigger_id:locked", NOW)
        assert not await index.claim_request("trigger_id:locked", NOW)
    finally:
        locker.dispose()
        index.close()
