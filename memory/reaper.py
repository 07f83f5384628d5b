"""Finds and stops the processes of one embedded memory server home; also runs its watchdog.

A process belongs to a home when its command line names it: hindsight-api is launched with the
home as an (ignored) argument, PostgreSQL runs with `-D <home>/pg/data`, pg0 with
`--data-dir <home>/pg/data`, the watchdog with `--watch <home>`.

The watchdog (`python -m memory.reaper --watch HOME`) is started by the owner with a pipe on
its stdin that only the owner can write to. It blocks reading it: a byte means the owner
stopped the server itself; end of file means the owner died without stopping it (SIGKILL,
crash), and then the watchdog stops hindsight-api and PostgreSQL of that home and exits.
PostgreSQL is daemonized by pg_ctl into a session of its own, so neither a signal to the
owner's group nor PR_SET_PDEATHSIG could reach it; this can.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Literal

from memory.ownership import HomeLock, read_state, write_state

logger = logging.getLogger(__name__)

Role = Literal["hindsight-api", "postgres", "pg0", "watchdog"]

API_LAUNCHER = (
    "import sys; from hindsight_api.main import main; "
    "sys.argv = ['hindsight-api']; sys.exit(main())"
)
# How long the watchdog waits for the dead owner's lock: if a new owner took it first, that
# owner clears up the leftovers itself.
_LOCK_WAIT_SECONDS = 10.0


def api_command(home: Path) -> list[str]:
    # The home rides on the command line only so this home's hindsight-api can be recognised
    # later (stale check, watchdog, ps); the launcher drops it before hindsight-api parses argv.
    return [sys.executable, "-c", API_LAUNCHER, str(home)]


def watchdog_command(home: Path) -> list[str]:
    return [sys.executable, "-m", "memory.reaper", "--watch", str(home)]


def _argument_after(argv: list[str], flag: str) -> str | None:
    try:
        return argv[argv.index(flag) + 1]
    except (ValueError, IndexError):
        return None


def role_of(argv: list[str], home: Path) -> Role | None:
    """What the process with this command line is for `home`, if it is one of its processes."""
    data_dir = str(home / "pg" / "data")
    if argv[1:4] == ["-c", API_LAUNCHER, str(home)]:
        return "hindsight-api"
    if argv[-3:] == ["memory.reaper", "--watch", str(home)]:
        return "watchdog"
    if argv and Path(argv[0]).name == "postgres" and _argument_after(argv, "-D") == data_dir:
        return "postgres"
    if _argument_after(argv, "--data-dir") == data_dir:
        return "pg0"
    return None


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0")[:-1]]


def processes_of(home: Path) -> dict[int, Role]:
    """Every live process of `home` except this one, by pid."""
    found: dict[int, Role] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        role = role_of(_cmdline(int(entry.name)), home)
        if role is not None and is_running(int(entry.name)):
            found[int(entry.name)] = role
    return found


def is_running(pid: int) -> bool:
    """Alive and not a zombie (a killed child of ours stays a zombie until it is waited for)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def _signal(pid: int, role: Role, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        # hindsight-api and pg0 lead sessions of their own; their helpers share the group.
        if role in ("hindsight-api", "pg0") and os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def _wait_gone(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while True:
        left = [pid for pid in pids if is_running(pid)]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.05)


def stop_processes(processes: dict[int, Role], grace: float = 4.0) -> None:
    """Ask each to stop, wait up to `grace` seconds, then kill what is left (bounded)."""
    polite: dict[Role, int] = {
        "hindsight-api": signal.SIGTERM,
        # Fast shutdown: disconnects clients; SIGTERM would wait for every client to leave.
        "postgres": signal.SIGINT,
        # A half-done pg0 has nothing worth saving; the next start repairs what it left.
        "pg0": signal.SIGKILL,
        "watchdog": signal.SIGTERM,
    }
    for pid, role in processes.items():
        _signal(pid, role, polite[role])
    left = _wait_gone(list(processes), grace)
    for pid in left:
        _signal(pid, processes[pid], signal.SIGKILL)
    left = _wait_gone(left, 1.0)
    if left:
        logger.warning("Processes %s did not end after SIGKILL", left)


def stop_server(home: Path, *, include_watchdog: bool, grace: float = 4.0) -> int:
    """Stop every process of `home`; returns how many there were."""
    found = processes_of(home)
    # pg0 first: left running, it could start a PostgreSQL after the scan below.
    starters: dict[int, Role] = {pid: role for pid, role in found.items() if role == "pg0"}
    if starters:
        stop_processes(starters, grace=1.0)
    rest: dict[int, Role] = {
        pid: role
        for pid, role in processes_of(home).items()
        if include_watchdog or role != "watchdog"
    }
    stop_processes(rest, grace)
    return len(starters) + len(rest)


def watch(home: Path) -> int:
    """The watchdog: wait for the owner to go; if it died without stopping, stop its server."""
    # Ctrl-C belongs to the owner; this process lives in a session of its own anyway.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.stdin.buffer.read(1):
        return 0
    lock = HomeLock(home)
    deadline = time.monotonic() + _LOCK_WAIT_SECONDS
    while not lock.try_acquire():
        if time.monotonic() >= deadline:
            return 0
        time.sleep(0.1)
    try:
        stopped = stop_server(home, include_watchdog=False)
        logger.warning(
            "The owner of the embedded Hindsight in %s died; stopped its %d process(es)",
            home,
            stopped,
        )
        state = read_state(home)
        if state is not None:
            stopped_state = dataclasses.replace(
                state, status="stopped", api_pid=None, postgres_pid=None
            )
            write_state(home, stopped_state)
    finally:
        lock.release()
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s watchdog %(message)s")
    if len(sys.argv) != 3 or sys.argv[1] != "--watch":
        sys.exit("usage: python -m memory.reaper --watch HOME")
    sys.exit(watch(Path(sys.argv[2])))
