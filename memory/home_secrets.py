"""Secrets made once per SALESMEMORY_HOME (the memory server's API key, its PostgreSQL
password): random, in files only their owner can read, shared by every process on the home."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

_SECRET_BYTES = 32


def read_secret(path: Path) -> str | None:
    """The secret stored at `path`, or None when there is none yet."""
    try:
        value = path.read_text().strip()
    except FileNotFoundError:
        return None
    return value or None


def home_secret(path: Path) -> str:
    """The secret at `path`, made (random, mode 0600) by whichever process asks first."""
    existing = read_secret(path)
    if existing is not None:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    # Hex, not urlsafe base64: a value starting with "-" is read as an option by the tools
    # it is handed to on their command line (pg0 start --password …).
    value = secrets.token_hex(_SECRET_BYTES)
    # mkstemp creates the file 0600; it is complete before it gets its name, and os.link
    # refuses an existing name, so two processes racing agree on the first one written.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(value + "\n")
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    stored = read_secret(path)
    if stored is None:
        raise OSError(f"{path} is empty: remove it and start again")
    return stored
