"""Two `python -m bot` replicas in HTTP mode against one PostgreSQL and one Hindsight: the
database elects exactly one to run the digest scheduler; when it dies or loses the database
the other takes over, and every digest due goes out once."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from bot.digest.schedule import job_id
from bot.log.view import build_log_modal
from bot.scheduler import Scheduler
from bot.services import Services
from memory.embedded import free_port
from memory.index import DigestSetting, LocalIndex
from memory.scheduler_lock import SCHEDULER_LOCK_KEY
from memory.store import ProspectMemory
from tests.e2e.conftest import filled_log_view
from tests.e2e.test_entry_point import bot_env
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.postgres import TestPostgres
from tests.support.slack_requests import SIGNING_SECRET, SlackSender
from tests.support.tcp_proxy import CuttableProxy
from tests.support.waiting import eventually

RUNS_IT = "This process runs the digest scheduler"
STANDS_BY = "this one stands by and takes over if it stops"
LOST = "Lost the database"
# Bounds, not measurements: a standby asks for the lock every 3 s, a holder checks every 2 s.
TAKEOVER_SECONDS = 30.0


@dataclass
class Replica:
    name: str
    port: int
    process: asyncio.subprocess.Process
    log_path: Path
    log_file: IO[bytes]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def readiness(self) -> tuple[int, dict[str, Any]]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{self.port}/readyz") as response,
        ):
            return response.status, await response.json()

    async def wait_for(
        self, status: int, scheduler: str, timeout: float = TAKEOVER_SECONDS
    ) -> None:
        """Until GET /readyz answers `status` and names `scheduler` as this replica's role."""
        seen: tuple[int, dict[str, Any]] | None = None
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            assert self.process.returncode is None, f"{self.name} exited:\n{self.log()}"
            with contextlib.suppress(aiohttp.ClientError):
                seen = await self.readiness()
                if seen[0] == status and seen[1].get("scheduler") == scheduler:
                    return
            await asyncio.sleep(0.2)
        raise AssertionError(f"{self.name}: /readyz is {seen}, not {status} {scheduler!r}")

    def slack(self, slack: FakeSlack) -> SlackSender:
        return SlackSender(f"http://127.0.0.1:{self.port}/slack/events", slack.response_url)


@dataclass
class Deployment:
    """What the replicas share: a database, a Hindsight bank prefix, Slack."""

    tmp_path: Path
    slack: FakeSlack
    hindsight_url: str
    hindsight_api_key: str | None
    db_url: str
    bank_prefix: str
    replicas: list[Replica]

    async def start(self, name: str, db_url: str | None = None) -> Replica:
        """`python -m bot` in HTTP mode, as test_entry_point launches it; its log in a file."""
        home = self.tmp_path / name
        home.mkdir()
        port = free_port()
        env = bot_env(
            home,
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=self.slack.api_url,
            HINDSIGHT_URL=self.hindsight_url,
            **({"HINDSIGHT_API_KEY": self.hindsight_api_key} if self.hindsight_api_key else {}),
            HINDSIGHT_BANK_PREFIX=self.bank_prefix,
            SALESMEMORY_DB_URL=db_url or self.db_url,
            PORT=str(port),
        )
        log_path = home / "bot.log"
        log_file = log_path.open("wb")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=home, env=env, stdout=log_file, stderr=log_file
        )
        replica = Replica(name, port, process, log_path, log_file)
        self.replicas.append(replica)
        return replica

    @contextlib.asynccontextmanager
    async def services(self) -> AsyncIterator[Services]:
        memory = ProspectMemory.connect(
            self.hindsight_url, self.bank_prefix, self.hindsight_api_key
        )
        index = LocalIndex.open(self.db_url)
        try:
            yield Services(memory=memory, index=index)
        finally:
            await memory.aclose()
            index.close()

    async def make_due(self, *reps: str, enrol: bool = False) -> None:
        """Reps' weekly digests due a minute ago in the shared job store, as a scheduler that
        was not running at 08:00 finds them. Only while no replica runs the scheduler
        (APScheduler 3 cannot share its job store)."""
        async with self.services() as services:
            if enrol:
                for rep in reps:
                    await services.index.save_digest_setting(DigestSetting(TEAM_ID, rep, "UTC"))
            client = AsyncWebClient(token="xoxb-test", base_url=self.slack.api_url)
            scheduler = Scheduler(services, client, self.db_url)
            await scheduler.start(paused=True)
            try:
                for rep in reps:
                    scheduler.scheduler.modify_job(
                        job_id(TEAM_ID, rep),
                        next_run_time=datetime.now(UTC) - timedelta(minutes=1),
                    )
            finally:
                scheduler.shutdown()


@pytest.fixture
async def deployment(
    tmp_path: Path,
    fake_slack: FakeSlack,
    hindsight_url: str,
    hindsight_api_key: str | None,
    postgres_url: str,
) -> AsyncIterator[Deployment]:
    shared = Deployment(
        tmp_path,
        fake_slack,
        hindsight_url,
        hindsight_api_key,
        postgres_url,
        f"replicas-{uuid.uuid4().hex[:8]}",
        [],
    )
    yield shared
    for replica in shared.replicas:
        if replica.process.returncode is None:
            replica.process.kill()
            await replica.process.wait()
        replica.log_file.close()


async def settled(replicas: list[Replica]) -> dict[str, Replica]:
    """The replicas by role, once each reports one other than "starting"."""
    for _ in range(int(TAKEOVER_SECONDS / 0.2)):
        roles = {}
        for replica in replicas:
            with contextlib.suppress(aiohttp.ClientError):
                status, body = await replica.readiness()
                if status == 200 and body["scheduler"] != "starting":
                    roles[body["scheduler"]] = replica
        if len(roles) == len(replicas):
            return roles
        await asyncio.sleep(0.2)
    raise AssertionError(f"the replicas never settled: {[r.log() for r in replicas]}")


def queue_for_the_lock(url: str) -> Connection:
    """Wait for the scheduler lock as a replica would if it blocked; return its session."""
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    conn = engine.connect()
    conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": SCHEDULER_LOCK_KEY})
    return conn


async def waiters_for_the_lock(url: str) -> int:
    def count() -> int:
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.connect() as conn:
                waiting = conn.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT "
                        "granted AND database = (SELECT oid FROM pg_database "
                        "WHERE datname = current_database())"
                    )
                ).scalar()
                return int(waiting or 0)
        finally:
            engine.dispose()

    return await asyncio.to_thread(count)


async def nothing_pending(url: str) -> bool:
    """Whether the shared job store holds nothing that could still send a digest: no job due,
    no retry, and no guard (a run stores one before it sends and drops it once done)."""

    def count() -> int:
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.connect() as conn:
                pending = conn.execute(
                    text(
                        "SELECT count(*) FROM digest_jobs "
                        "WHERE id LIKE 'digest-retry:%' OR next_run_time <= :now"
                    ),
                    {"now": time.time()},
                ).scalar()
                return int(pending or 0)
        finally:
            engine.dispose()

    return await asyncio.to_thread(count) == 0


def dm_channels(slack: FakeSlack) -> list[str]:
    return [call["channel"] for call in slack.called("chat.postMessage")]


async def test_one_replica_runs_the_scheduler_and_the_other_takes_over_when_it_is_killed(
    deployment: Deployment, fake_slack: FakeSlack
) -> None:
    # Enrolled before any replica runs: one digest due now, one due later.
    await deployment.make_due("U0EARLY", enrol=True)
    async with deployment.services() as services:
        await services.index.save_digest_setting(DigestSetting(TEAM_ID, "U0LATE", "UTC"))

    first = await deployment.start("first")
    await first.wait_for(200, "running")
    second = await deployment.start("second")
    roles = await settled([first, second])
    assert set(roles) == {"running", "standby"}
    holder, standby = roles["running"], roles["standby"]
    assert RUNS_IT in holder.log() and RUNS_IT not in standby.log()
    assert STANDS_BY in standby.log()
    # The digest due now goes out once, from the replica that runs the scheduler.
    await fake_slack.wait_for("chat.postMessage", timeout=TAKEOVER_SECONDS)
    assert dm_channels(fake_slack) == ["DU0EARLY"]

    # Queue for the lock behind the holder, then kill it outright: PostgreSQL frees the lock
    # the moment its session dies and hands it to the first in the queue (this test, so the
    # standby's tries keep failing while the test makes U0LATE's digest due, as if 08:00 came
    # while no replica ran the scheduler).
    queued = asyncio.ensure_future(asyncio.to_thread(queue_for_the_lock, deployment.db_url))
    for _ in range(100):
        if await waiters_for_the_lock(deployment.db_url) == 1:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the test never queued for the lock")
    holder.process.kill()  # kill -9: no shutdown, no goodbye
    await holder.process.wait()
    lock_session = await asyncio.wait_for(queued, TAKEOVER_SECONDS)
    try:
        await standby.wait_for(200, "standby", timeout=10)
        await deployment.make_due("U0LATE")
    finally:
        await asyncio.to_thread(lock_session.close)

    # The survivor takes over and sends what is due, once; what was sent is not sent again.
    await standby.wait_for(200, "running")
    assert RUNS_IT in standby.log()
    await fake_slack.wait_for("chat.postMessage", count=2, timeout=TAKEOVER_SECONDS)
    # The survivor is done: nothing is due, retried or guarding a send in the job store.
    await eventually(
        lambda: nothing_pending(deployment.db_url), "the survivor's digests all finished", 60
    )
    assert sorted(dm_channels(fake_slack)) == ["DU0EARLY", "DU0LATE"]


async def test_a_replica_that_loses_the_database_stops_scheduling_says_so_and_competes_again(
    deployment: Deployment, fake_slack: FakeSlack, postgres: TestPostgres
) -> None:
    proxy = CuttableProxy(postgres.port)
    await proxy.start()
    behind_proxy = make_url(deployment.db_url).set(port=proxy.port)
    try:
        cut_off = await deployment.start(
            "cut-off", behind_proxy.render_as_string(hide_password=False)
        )
        await cut_off.wait_for(200, "running")
        other = await deployment.start("other")
        await other.wait_for(200, "standby")
        # A rep fills in the call form (as the bot builds it) on the replica about to lose
        # its database.
        send = cut_off.slack(fake_slack)
        form = build_log_modal(date(2026, 11, 20), "Sarah Linden", json.dumps({"tz": "UTC"}))
        filled = filled_log_view(form, "Sarah Linden", note="Wants the security review first.")

        await proxy.cut()
        # It stops scheduling and says so, in its log and its readiness; the other takes over.
        await cut_off.wait_for(503, "no database")
        _, readiness = await cut_off.readiness()
        assert readiness["database"] is False and readiness["memory"] is True
        assert LOST in cut_off.log() and "stopped running the digest scheduler" in cut_off.log()
        await other.wait_for(200, "running")
        # Slack requests it still serves get a clear answer: the form stays open, nothing lost.
        status, body = await send.view_submission(filled, "V1")
        assert status == 200
        errors = json.loads(body)
        assert errors["response_action"] == "errors"
        assert "couldn't save this just now" in json.dumps(errors["errors"])
        before = len(fake_slack.responses)
        status, _ = await send.command("/brief", "Sarah Linden")
        assert status == 200
        [answer] = (await fake_slack.wait_for("respond", count=before + 1))[before:]
        assert answer["text"].startswith("Something went wrong on my side")
        assert "please try again in a minute" in answer["text"]

        # The database is back: it competes again, and stands by behind the new holder.
        await proxy.restore()
        await cut_off.wait_for(200, "standby")
        status, body = await send.view_submission(filled, "V1")
        assert (status, body) == (200, "")
        async with deployment.services() as services:
            known = await services.index.known_prospects(TEAM_ID)
            assert [p.name for p in known] == ["Sarah Linden"]
    finally:
        await proxy.close()
