"""Keeping the embedded Hindsight alive: the owner restarts a server that died or hangs (same
port, backoff between tries); a process using another's server takes it over when its owner
exited. A part of `EmbeddedHindsight`, kept apart so the start-up reads on its own."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from memory import reaper
from memory.embedded_postgres import EmbeddedMemoryError, start_postgres

if TYPE_CHECKING:
    import subprocess
    import threading
    from pathlib import Path

    from memory.embedded_postgres import PgRunner, RunningPostgres
    from memory.ownership import HomeLock, Status

# The embedded server's lines, start-up and restarts alike, come under one logger name.
logger = logging.getLogger("memory.embedded")

# Restart backoff: 1 s, 2 s, 4 s … capped; back to 1 s once a restart has stayed up this long.
_MAX_BACKOFF_SECONDS = 30.0
_STABLE_SECONDS = 60.0
# A live hindsight-api that has not answered /health for this long is restarted.
_UNHEALTHY_SECONDS = 30.0


class Supervision:
    """The restart loop and its checks (mixed into `EmbeddedHindsight`, which has the state
    and the start-up steps declared here)."""

    home: Path
    url: str | None
    _lock: HomeLock
    _ops: threading.RLock
    _stopping: threading.Event
    _pg: PgRunner | None
    _postgres: RunningPostgres | None
    _api: subprocess.Popen[bytes] | None
    _unhealthy_since: float | None

    @property
    def owner(self) -> bool:
        raise NotImplementedError

    @property
    def _password_file(self) -> Path:
        raise NotImplementedError

    def _start_as_owner(self, port: int | None = None) -> str:
        raise NotImplementedError

    def _launch_api(self) -> None:
        raise NotImplementedError

    def _publish(self, status: Status) -> None:
        raise NotImplementedError

    def _wait_until_healthy(self) -> None:
        raise NotImplementedError

    async def supervise(self, stop: asyncio.Event, check_every: float = 2.0) -> None:
        """Until `stop` is set, restart the server this process owns when it dies or hangs.

        Restarts keep the same port, so clients' URL stays valid. For a process that does not
        own the server, this only waits for `stop`.
        """
        attempt = 0
        restarted_at = 0.0
        while not await _set_within(stop, check_every):
            if not self.owner:
                await asyncio.to_thread(self._take_over_if_abandoned)
                continue
            try:
                problem = await asyncio.to_thread(self._problem)
            except Exception:
                logger.exception("Checking the embedded Hindsight failed")
                continue
            if problem is None:
                if attempt and time.monotonic() - restarted_at >= _STABLE_SECONDS:
                    attempt = 0
                continue
            while True:
                attempt += 1
                logger.warning(
                    "Embedded Hindsight died (%s); restarting (attempt %d)", problem, attempt
                )
                backoff = min(_MAX_BACKOFF_SECONDS, 2.0 ** (attempt - 1))
                if await _set_within(stop, backoff):
                    return
                try:
                    await asyncio.to_thread(self._restart)
                except EmbeddedMemoryError as error:
                    problem = f"restart failed: {str(error).splitlines()[0]}"
                    continue
                except Exception:
                    logger.exception("Restarting the embedded Hindsight failed unexpectedly")
                    problem = "restart failed unexpectedly"
                    continue
                restarted_at = time.monotonic()
                break

    def _take_over_if_abandoned(self) -> None:
        """A process using another's server: when that server is gone and its owner let go
        of the lock (it exited), become the owner, on the same port so our URL stays valid."""
        url = self.url
        if url is None or answers(url):
            return
        with self._ops:
            if self._stopping.is_set() or not self._lock.try_acquire():
                return
            logger.warning(
                "The embedded Hindsight at %s stopped with the process that owned it; "
                "this process takes it over",
                url,
            )
            try:
                self._start_as_owner(urlparse(url).port)
            except EmbeddedMemoryError:
                logger.exception("Taking over the embedded Hindsight failed; trying again later")

    def _problem(self) -> str | None:
        """Why the owned server needs a restart, or None while it is fine."""
        if not self._ops.acquire(blocking=False):
            return None  # being started, restarted or stopped right now
        try:
            if not self.owner or self._api is None or self.url is None:
                return None
            if self._api.poll() is not None:
                return f"hindsight-api exited with {self._api.returncode}"
            if self._postgres is not None and not reaper.is_running(self._postgres.pid):
                return f"PostgreSQL (pid {self._postgres.pid}) is gone"
            url = self.url
        finally:
            self._ops.release()
        if answers(url):
            self._unhealthy_since = None
            return None
        now = time.monotonic()
        if self._unhealthy_since is None:
            self._unhealthy_since = now
        if now - self._unhealthy_since >= _UNHEALTHY_SECONDS:
            return f"no answer on /health for {now - self._unhealthy_since:.0f}s"
        return None

    def _restart(self) -> None:
        with self._ops:
            if not self.owner or self._stopping.is_set():
                return
            assert self._pg is not None
            self._publish("restarting")
            if self._api is not None:
                reaper.stop_processes({self._api.pid: "hindsight-api"})
                self._api.wait()
            postgres = self._postgres
            if postgres is None or not reaper.is_running(postgres.pid):
                leftovers = reaper.processes_of(self.home)
                reaper.stop_processes(
                    {p: r for p, r in leftovers.items() if r in ("postgres", "pg0")}
                )
                self._postgres = start_postgres(
                    self._pg, free_port(), self._password_file, self._stopping
                )
            self._launch_api()
            self._publish("restarting")
            self._wait_until_healthy()
            self._unhealthy_since = None
            self._publish("ready")
        logger.info("Embedded Hindsight restarted at %s", self.url)


async def _set_within(event: asyncio.Event, seconds: float) -> bool:
    """Wait up to `seconds` for `event`; True when it is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
    return event.is_set()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def answers(url: str) -> bool:
    """Whether a Hindsight at `url` answers its health check."""
    try:
        with urllib.request.urlopen(url + "/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False
