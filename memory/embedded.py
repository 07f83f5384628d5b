"""A real Hindsight server run locally: pg0's PostgreSQL + `hindsight-api`, fully offline.

Data lives under `<home>/hindsight` and survives restarts. One process per home owns the
server (an flock on `owner.lock`, held for the owner's life): it starts it, supervises it and
stops it; its watchdog stops it if the owner dies without doing so. Any other process on the
same home uses the owner's server and never starts or stops anything.

The server answers only requests carrying the home's API key, and its PostgreSQL has a password
made for the home; both are in files of the home only their owner can read, so every process
on the home can connect (memory/home_secrets.py).
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import IO, Any

from memory import reaper
from memory.embedded_env import HindsightLlm, inherited_env
from memory.embedded_env import hindsight_env as _hindsight_env  # a benchmark swaps this name
from memory.embedded_postgres import (
    EmbeddedMemoryError,
    PgRunner,
    RunningPostgres,
    pg_runner,
    start_postgres,
)
from memory.embedded_supervision import Supervision, answers, free_port
from memory.home_secrets import home_secret, read_secret
from memory.ownership import HomeLock, ServerState, Status, read_state, write_state

__all__ = ["EmbeddedHindsight", "EmbeddedMemoryError", "HindsightLlm", "free_port"]

logger = logging.getLogger(__name__)

# Where `memory` is importable from, for the watchdog (`python -m memory.reaper`).
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
_WATCHDOG_SECONDS = 1.0


class EmbeddedHindsight(Supervision):
    """`start()` blocks until a server answers and returns its URL; `stop()` stops it if ours.

    Thread-safe: the bot calls `start`/`stop` through `asyncio.to_thread` while `supervise`
    runs on the event loop.
    """

    def __init__(
        self,
        home: Path,
        startup_timeout: float = 180.0,
        *,
        pg_user: str | None = None,
        llm: HindsightLlm | None = None,
    ) -> None:
        # Resolved: other processes recognise this home's processes by this exact path.
        self.home = (home / "hindsight").resolve()
        self.startup_timeout = startup_timeout
        self.pg_user = pg_user
        self.llm = llm
        self.url: str | None = None
        self._lock = HomeLock(self.home)
        # Held by whatever starts, restarts or stops the server, so they never interleave.
        self._ops = threading.RLock()
        # Set by stop(): an in-flight start or restart gives up within a fraction of a second.
        self._stopping = threading.Event()
        self._pg: PgRunner | None = None
        self._postgres: RunningPostgres | None = None
        self._port: int | None = None
        self._api: subprocess.Popen[bytes] | None = None
        self._log: IO[Any] | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None
        # Write end of the watchdog's stdin, as a bare descriptor: a file object would close it
        # when garbage-collected, and the watchdog would read that as "owner died".
        self._watchdog_pipe: int | None = None
        self._unhealthy_since: float | None = None

    @property
    def api_key(self) -> str:
        """The key every request to this home's server must carry (made on first use)."""
        return home_secret(self.home / "api-key")

    @property
    def _password_file(self) -> Path:
        return self.home / "postgres-password"

    def database_url(self) -> str | None:
        """The server's PostgreSQL (postgresql://…), for what its API cannot do (see
        ProspectMemory.purge_erased); None while no server of this home is running. Asked
        each time: a restarted PostgreSQL listens on a new port."""
        if self.owner:
            return self._postgres.uri if self._postgres is not None else None
        state = read_state(self.home)
        password = read_secret(self._password_file)
        if state is None or state.postgres_port is None or password is None:
            return None
        return f"postgresql://hindsight:{password}@127.0.0.1:{state.postgres_port}/hindsight"

    @property
    def owner(self) -> bool:
        """True while this object started and owns the server."""
        return self._lock.held

    @property
    def log_path(self) -> Path:
        return self.home / "hindsight-api.log"

    def start(self) -> str:
        """Own and start the server, or use the one another process owns; returns its URL."""
        self._stopping.clear()
        self.home.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.startup_timeout
        while True:
            # Under `_ops`, so a concurrent stop() never releases a lock taken for a start.
            with self._ops:
                if self.owner and self.url is not None:
                    return self.url
                if self._lock.try_acquire():
                    return self._start_as_owner()
            state = read_state(self.home)
            if state is not None and state.status == "ready" and state.url and answers(state.url):
                self.url = state.url
                logger.info(
                    "Using the embedded Hindsight at %s owned by process %d",
                    state.url,
                    state.owner_pid,
                )
                return state.url
            if self._stopping.is_set():
                raise EmbeddedMemoryError("Stopped while waiting for the embedded Hindsight.")
            if time.monotonic() >= deadline:
                owner = f"process {state.owner_pid}" if state else "another process"
                status = state.status if state else "unknown"
                raise EmbeddedMemoryError(
                    f"The embedded Hindsight in {self.home} is owned by {owner} and was not "
                    f"ready within {self.startup_timeout:.0f}s (status: {status})."
                )
            time.sleep(0.5)

    def _start_as_owner(self, port: int | None = None) -> str:
        """Start everything as the owner (the lock is held); on `port` when given."""
        started = time.monotonic()
        with self._ops:
            try:
                self._stop_leftovers()
                self._publish("starting")
                self._start_watchdog()
                self._pg = pg_runner(self.home / "pg", self.pg_user)
                self._postgres = start_postgres(
                    self._pg, free_port(), self._password_file, self._stopping
                )
                self._port = port or free_port()
                self.url = f"http://127.0.0.1:{self._port}"
                self._launch_api()
                self._publish("starting")
                self._wait_until_healthy()
                self._publish("ready")
            except BaseException:
                self._shutdown("failed")
                raise
        logger.info(
            "Embedded Hindsight ready at %s in %.1fs (data in %s)",
            self.url,
            time.monotonic() - started,
            self.home,
        )
        return self.url

    def _stop_leftovers(self) -> None:
        # We hold the lock, so anything still running for this home (pids of the state file
        # included: they are found by command line, which verifies them) is an earlier owner's.
        stopped = reaper.stop_server(self.home, include_watchdog=True)
        if stopped:
            logger.warning(
                "Stopped %d process(es) left by an earlier embedded Hindsight in %s",
                stopped,
                self.home,
            )

    def _start_watchdog(self) -> None:
        path = os.environ.get("PYTHONPATH")
        env = {
            **inherited_env(),
            "PYTHONPATH": os.pathsep.join([str(_PACKAGE_ROOT), *([path] if path else [])]),
        }
        with open(self.home / "watchdog.log", "ab") as log:
            # Its own session: a Ctrl-C to the terminal's group must not take it down.
            self._watchdog = subprocess.Popen(
                reaper.watchdog_command(self.home),
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.home,
                env=env,
                start_new_session=True,
            )
        assert self._watchdog.stdin is not None
        # os.dup makes a non-inheritable copy: no later child keeps the watchdog waiting.
        self._watchdog_pipe = os.dup(self._watchdog.stdin.fileno())
        self._watchdog.stdin.close()

    def _launch_api(self) -> None:
        assert self._postgres is not None and self._port is not None
        if importlib.util.find_spec("hindsight_api") is None:
            raise EmbeddedMemoryError(
                "hindsight-api is not installed: install the 'embedded' extra "
                "(pip install -e '.[embedded]') or set HINDSIGHT_URL."
            )
        if self._log is None:
            self._log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child's life
        # hindsight-api loads the first .env found upwards from its cwd, over the environment we
        # give it (override=True): a project's .env above SALESMEMORY_HOME would reconfigure it.
        # An empty one here is found first.
        guard = self.home / ".env"
        if not guard.exists():
            guard.write_text("# Keeps hindsight-api from reading a .env further up.\n")
        self._api = subprocess.Popen(
            reaper.api_command(self.home),
            env=_hindsight_env(self._postgres.uri, self._port, self.api_key, self.llm),
            cwd=self.home,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _publish(self, status: Status) -> None:
        write_state(
            self.home,
            ServerState(
                owner_pid=os.getpid(),
                status=status,
                url=self.url,
                api_pid=self._api.pid if self._api else None,
                postgres_pid=self._postgres.pid if self._postgres else None,
                postgres_port=self._postgres.port if self._postgres else None,
                watchdog_pid=self._watchdog.pid if self._watchdog else None,
            ),
        )

    def _wait_until_healthy(self) -> None:
        assert self._api is not None and self.url is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._api.poll() is not None:
                raise EmbeddedMemoryError(
                    f"hindsight-api exited with {self._api.returncode}; last log lines:\n"
                    + self._log_tail()
                )
            if self._stopping.is_set():
                raise EmbeddedMemoryError("Stopped while the embedded Hindsight was starting.")
            if answers(self.url):
                return
            time.sleep(0.5)
        raise EmbeddedMemoryError(
            f"hindsight-api was not healthy after {self.startup_timeout:.0f}s; last log lines:\n"
            + self._log_tail()
        )

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Stop hindsight-api, PostgreSQL and the watchdog if this process owns them (bounded,
        ~7 s at most; safe to call twice); a no-op for a process that only uses the server."""
        # Left set: a start() still waiting in another thread (as owner or for another
        # process's server) sees it and gives up; the next start() clears it.
        self._stopping.set()
        with self._ops:
            if self.owner:
                self._shutdown("stopped")

    def _shutdown(self, status: Status) -> None:
        """Stop everything this owner started and give up ownership; call with `_ops` held."""
        processes: dict[int, reaper.Role] = {}
        if self._api is not None:
            processes[self._api.pid] = "hindsight-api"
        processes.update(
            {p: r for p, r in reaper.processes_of(self.home).items() if r != "watchdog"}
        )
        reaper.stop_processes(processes)
        if self._api is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._api.wait(timeout=0.5)
        self._api = None
        self._postgres = None
        if self._log is not None:
            self._log.close()
            self._log = None
        self._end_watchdog()
        self._unhealthy_since = None
        with contextlib.suppress(OSError):
            self._publish(status)
        self._lock.release()

    def _end_watchdog(self) -> None:
        watchdog, self._watchdog = self._watchdog, None
        pipe, self._watchdog_pipe = self._watchdog_pipe, None
        if pipe is not None:
            # One byte, then EOF: "stopped on purpose", where EOF alone means "owner died".
            with contextlib.suppress(OSError):
                os.write(pipe, b"q")
            os.close(pipe)
        if watchdog is None:
            return
        try:
            watchdog.wait(timeout=_WATCHDOG_SECONDS)
        except subprocess.TimeoutExpired:
            watchdog.kill()
            watchdog.wait()
