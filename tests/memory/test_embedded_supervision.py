"""The embedded memory server is owned by one process per home, restarted when it dies, taken
along when its owner dies, and repaired after a first start cut short. Real processes only."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from memory.embedded import EmbeddedHindsight, answers

REPO = Path(__file__).resolve().parents[2]
START_SECONDS = 180.0
# The watchdog's whole job after its owner dies: take the lock, stop two processes.
ORPHAN_CLEANUP_SECONDS = 15.0

OWNER_THAT_SLEEPS = """
import sys, time
from pathlib import Path
from memory.embedded import EmbeddedHindsight
print(EmbeddedHindsight(Path(sys.argv[1])).start(), flush=True)
time.sleep(600)
"""
SECOND_PROCESS = """
import sys
from pathlib import Path
from memory.embedded import EmbeddedHindsight
server = EmbeddedHindsight(Path(sys.argv[1]), startup_timeout=30)
print(server.start(), server.owner, flush=True)
server.stop()
"""
FIRST_START = """
import sys
from pathlib import Path
from memory.embedded import EmbeddedHindsight
EmbeddedHindsight(Path(sys.argv[1])).start()
"""


def python(
    code: str,
    home: Path,
    *,
    stdout: int | None = None,
    stderr: int | None = None,
    start_new_session: bool = False,
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, str(home)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        text=True,
        stdout=stdout,
        stderr=stderr,
        start_new_session=start_new_session,
    )


def processes_naming(home: Path) -> list[list[str]]:
    """Command lines of live processes that name `home` (hindsight-api, PostgreSQL, …)."""
    needle = str(home.resolve()).encode()
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "cmdline").read_bytes()
        except OSError:
            continue
        if needle in raw:
            found.append([part.decode() for part in raw.split(b"\0")[:-1]])
    return found


def api_pids(home: Path) -> list[int]:
    needle = str((home / "hindsight").resolve()).encode()
    pids = []
    for entry in os.scandir("/proc"):
        try:
            argv = Path(entry.path, "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"hindsight_api" in b" ".join(argv) and needle in argv:
            pids.append(int(entry.name))
    return pids


def postgres_pid(home: Path) -> int:
    pid_file = home / "hindsight" / "pg" / "data" / "postmaster.pid"
    return int(pid_file.read_text().splitlines()[0])


def touched_since(path: Path, since_ns: int) -> bool:
    try:
        return path.stat().st_mtime_ns >= since_ns
    except FileNotFoundError:
        return False


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds:.0f}s: {what}"
        time.sleep(0.1)


async def eventually(condition: Callable[[], bool], seconds: float, what: str) -> None:
    """`wait_until` for async tests: checks run in a thread, the supervisor keeps running."""
    await asyncio.to_thread(wait_until, condition, seconds, what)


@pytest.fixture(scope="module")
def owned_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedHindsight]:
    server = EmbeddedHindsight(tmp_path_factory.mktemp("owned-home"))
    server.start()
    yield server
    server.stop()


def test_second_process_on_the_same_home_uses_the_running_server_and_never_stops_it(
    owned_server: EmbeddedHindsight,
) -> None:
    home = owned_server.home.parent
    second = python(SECOND_PROCESS, home, stdout=subprocess.PIPE)
    out, _ = second.communicate(timeout=60)

    assert second.returncode == 0
    assert out.split() == [owned_server.url, "False"]
    assert owned_server.owner
    assert owned_server.url is not None and answers(owned_server.url)
    assert len(api_pids(home)) == 1


async def test_supervisor_restarts_a_dead_api_or_postgres_on_the_same_url(
    owned_server: EmbeddedHindsight, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="memory.embedded")
    home, url = owned_server.home.parent, owned_server.url
    assert url is not None
    stop = asyncio.Event()
    supervisor = asyncio.create_task(owned_server.supervise(stop, check_every=0.2))
    try:
        [killed_api] = api_pids(home)
        os.kill(killed_api, signal.SIGKILL)
        await eventually(
            lambda: caplog.text.count("restarted at") == 1 and answers(url),
            START_SECONDS,
            "a new hindsight-api answering on the same URL",
        )
        assert "died (hindsight-api exited with -9); restarting (attempt 1)" in caplog.text
        assert api_pids(home) not in ([], [killed_api])

        killed_postgres = postgres_pid(home)
        os.kill(killed_postgres, signal.SIGKILL)
        await eventually(
            lambda: caplog.text.count("restarted at") == 2 and answers(url),
            START_SECONDS,
            "a new PostgreSQL and hindsight-api answering on the same URL",
        )
        assert f"PostgreSQL (pid {killed_postgres}) is gone" in caplog.text
        assert postgres_pid(home) != killed_postgres
        assert len(api_pids(home)) == 1
    finally:
        stop.set()
        await supervisor


async def test_killed_owner_takes_its_server_along_and_a_user_of_it_takes_over(
    tmp_path: Path,
) -> None:
    owner = python(OWNER_THAT_SLEEPS, tmp_path, stdout=subprocess.PIPE)
    user = EmbeddedHindsight(tmp_path, startup_timeout=START_SECONDS)
    try:
        assert owner.stdout is not None
        owned_url = owner.stdout.readline().strip()
        assert owned_url.startswith("http://")
        # A second process (say the bot, started while a command line owned the server).
        assert await asyncio.to_thread(user.start) == owned_url
        assert not user.owner
    finally:
        owner.kill()
        owner.communicate()

    wait_until(
        lambda: processes_naming(tmp_path) == [],
        ORPHAN_CLEANUP_SECONDS,
        "no hindsight-api, PostgreSQL or watchdog left for the home",
    )

    # The process that used it takes the server over, on the same URL, exactly once.
    stop = asyncio.Event()
    supervisor = asyncio.create_task(user.supervise(stop, check_every=0.5))
    try:
        deadline = time.monotonic() + START_SECONDS
        while not (user.owner and await asyncio.to_thread(answers, owned_url)):
            assert time.monotonic() < deadline, "nobody took the server over"
            await asyncio.sleep(0.5)
        assert len(api_pids(tmp_path)) == 1
    finally:
        stop.set()
        await supervisor
        await asyncio.to_thread(user.stop)
    assert processes_naming(tmp_path) == []


def interrupt_first_start(home: Path, moment: Path, sig: signal.Signals) -> None:
    """Run a first start in a subprocess and send `sig` to its group once `moment` exists."""
    # Touched by each start just before it runs pg0 (after clearing up what the previous one
    # left), so a directory seen after that is this start's own work, not a leftover.
    marker = home / "hindsight" / "pg" / ".first-start-incomplete"
    launched_ns = time.time_ns()
    # A session of its own, so a signal to its group is what Ctrl-C in a terminal does.
    first = python(FIRST_START, home, start_new_session=True, stderr=subprocess.PIPE)
    try:
        wait_until(
            lambda: (
                first.poll() is not None or (touched_since(marker, launched_ns) and moment.exists())
            ),
            START_SECONDS,
            f"{moment.name} appearing",
        )
        assert first.poll() is None, f"the start ended before {moment.name} appeared"
        os.killpg(first.pid, sig)
    finally:
        _, err = first.communicate(timeout=30)
    assert first.returncode != 0, err
    wait_until(
        lambda: processes_naming(home) == [],
        ORPHAN_CLEANUP_SECONDS,
        f"nothing left running after {sig.name} at {moment.name}",
    )


def test_first_start_cut_short_by_ctrl_c_or_kill_is_repaired_by_the_next_start(
    tmp_path: Path,
) -> None:
    pg_home = tmp_path / "hindsight" / "pg"
    interrupt_first_start(tmp_path, pg_home / ".pg0" / "installation", signal.SIGINT)  # unpack
    interrupt_first_start(tmp_path, pg_home / "data", signal.SIGINT)  # initdb
    interrupt_first_start(tmp_path, pg_home / ".pg0" / "installation", signal.SIGKILL)

    server = EmbeddedHindsight(tmp_path)
    try:
        assert answers(server.start())
    finally:
        server.stop()
