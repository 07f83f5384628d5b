"""Who owns the embedded memory server of one home: an exclusive lock and a small state file.

The owner holds `owner.lock` (flock) for as long as it runs the server; the kernel drops the
lock when the owner dies, however it dies. `server.json` tells other processes where the server
is and whether it is ready. Stdlib only: the watchdog imports this too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Status = Literal["starting", "ready", "restarting", "stopped", "failed"]

LOCK_NAME = "owner.lock"
STATE_NAME = "server.json"


class HomeLock:
    """The exclusive, non-blocking ownership lock of one home."""

    def __init__(self, home: Path) -> None:
        self.path = home / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; True when this object holds it afterwards."""
        if self._fd is not None:
            return True
        # O_CLOEXEC: a child that inherited the descriptor would keep the lock after we die.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@dataclass(frozen=True)
class ServerState:
    """What the owner publishes about its server."""

    owner_pid: int
    status: Status
    url: str | None = None
    api_pid: int | None = None
    postgres_pid: int | None = None
    # Where this home's PostgreSQL listens (its password is in the home, not here).
    postgres_port: int | None = None
    watchdog_pid: int | None = None


def read_state(home: Path) -> ServerState | None:
    """The published state, or None when there is none or it cannot be read."""
    try:
        raw = json.loads((home / STATE_NAME).read_text())
        return ServerState(**raw)
    except (OSError, ValueError, TypeError):
        return None


def write_state(home: Path, state: ServerState) -> None:
    """Replace the state file atomically, so a reader never sees half of it."""
    fd, tmp = tempfile.mkstemp(dir=home, prefix=f".{STATE_NAME}.")
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(dataclasses.asdict(state), out)
        os.replace(tmp, home / STATE_NAME)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
