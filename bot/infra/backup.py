"""`python -m bot backup DIR` and `python -m bot restore DIR`: what a home holds, copied while
the bot runs, and put back into an empty home.

A backup is a folder: the local index and the scheduler's jobs (SQLite, copied with the online
backup API), the embedded memory server's database (pg_dump), and `backup.json` saying what is
in it, written last, so a folder without it is not a backup. What lives on servers of their
own (SALESMEMORY_DB_URL on PostgreSQL, HINDSIGHT_URL) is named as not included: those servers
are backed up with their own tools.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.config import Settings, masked_url
from memory.backup import (
    BackupError,
    copy_sqlite,
    dump_memory,
    has_memory_data,
    home_to_itself,
    load_memory,
    remove_memory_data,
)

__all__ = ["BackupError", "Manifest", "back_up", "read_manifest", "restore"]

MANIFEST_NAME = "backup.json"
FORMAT = 1
# Names inside a backup folder, whatever the files are called in the home.
INDEX_FILE = "index.sqlite"
JOBS_FILE = "jobs.sqlite"
MEMORY_FILE = "memory.pgdump"


@dataclass(frozen=True)
class Manifest:
    """What `backup.json` records: enough to tell what the folder holds and where it fits."""

    version: str
    created: str
    bank_prefix: str
    # Which of INDEX_FILE, JOBS_FILE, MEMORY_FILE the folder holds.
    files: list[str]
    not_included: list[str] = field(default_factory=list)
    format: int = FORMAT


def _version() -> str:
    try:
        return metadata.version("salesmemory-slack")
    except metadata.PackageNotFoundError:
        return "unknown"


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for a server database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database)


def _local_files(settings: Settings) -> dict[str, Path]:
    """The backup's name for each SQLite file of this configuration."""
    found = {
        INDEX_FILE: _sqlite_file(settings.db_url),
        JOBS_FILE: _sqlite_file(settings.job_store_url),
    }
    return {name: path for name, path in found.items() if path is not None}


def _external(settings: Settings) -> list[str]:
    """What this configuration keeps on servers a backup does not reach."""
    outside = []
    if _sqlite_file(settings.db_url) is None:
        outside.append(
            f"the local database and scheduler jobs at {masked_url(settings.db_url)} "
            "(SALESMEMORY_DB_URL): back up that PostgreSQL with its own tools"
        )
    if not settings.embedded_memory:
        outside.append(
            f"memory at {masked_url(settings.hindsight_url or '')} (HINDSIGHT_URL): back up "
            "that Hindsight server's database with its own tools"
        )
    return outside


def back_up(settings: Settings, target: Path) -> Manifest:
    """Copy this home's databases into `target` (new or empty), consistent while the bot runs."""
    _owned_by_caller(settings.home)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} is not an empty folder: give a new one for the backup.")
    index = _sqlite_file(settings.db_url)
    if index is not None and not index.exists():
        raise BackupError(f"There is no local database at {index}: is SALESMEMORY_HOME right?")
    target.mkdir(parents=True, exist_ok=True)
    # The dump holds every note: only the admin who made it may read it.
    target.chmod(0o700)
    files = []
    try:
        # The index before memory: a note delivered in between is then in the dump and still
        # waiting in the index copy, which sends it again after a restore (memory keeps one
        # copy per call id). The other order would lose it: a delivered note's text leaves
        # the index.
        for name, path in _local_files(settings).items():
            # The jobs file appears once a scheduler has run here; without it there is none.
            if path.exists():
                copy_sqlite(path, target / name)
                files.append(name)
        if settings.embedded_memory:
            dump_memory(settings.home, target / MEMORY_FILE, settings.pg_user)
            files.append(MEMORY_FILE)
        manifest = Manifest(
            version=_version(),
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            bank_prefix=settings.bank_prefix,
            files=files,
            not_included=_external(settings),
        )
        (target / MANIFEST_NAME).write_text(json.dumps(asdict(manifest), indent=2) + "\n")
    except BaseException:
        # Half a backup must not pass for one: the folder is left as it was found.
        for child in target.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        raise
    return manifest


def read_manifest(source: Path) -> Manifest:
    """The manifest of the backup in `source`, checked against the files beside it."""
    try:
        raw = json.loads((source / MANIFEST_NAME).read_text())
        manifest = Manifest(**raw)
    except (OSError, ValueError, TypeError) as error:
        raise BackupError(
            f"{source} is not a SalesMemory backup (no readable {MANIFEST_NAME})."
        ) from error
    if manifest.format != FORMAT:
        raise BackupError(
            f"{source} is a backup of format {manifest.format}; this version reads {FORMAT}."
        )
    known = {INDEX_FILE, JOBS_FILE, MEMORY_FILE}
    missing = [name for name in manifest.files if name not in known or not (source / name).exists()]
    if missing:
        raise BackupError(f"{source} is incomplete: {', '.join(missing)} listed but not there.")
    return manifest


def _data_in_home(settings: Settings) -> list[str]:
    """What this configuration's home already holds that a restore would overwrite."""
    held = [str(path) for path in _local_files(settings).values() if path.exists()]
    if settings.embedded_memory and has_memory_data(settings.home):
        held.append(str(settings.home / "hindsight" / "pg" / "data"))
    return held


def _restore_problems(settings: Settings, manifest: Manifest) -> list[str]:
    problems = []
    if manifest.bank_prefix != settings.bank_prefix:
        problems.append(
            f"the backup's memory bank prefix is {manifest.bank_prefix!r} and this "
            f"configuration's is {settings.bank_prefix!r}: set HINDSIGHT_BANK_PREFIX="
            f"{manifest.bank_prefix} so the bot finds the restored bank"
        )
    if INDEX_FILE in manifest.files and _sqlite_file(settings.db_url) is None:
        problems.append(
            "the backup holds a SQLite local database, but SALESMEMORY_DB_URL points to a "
            "server: unset it to restore into this home"
        )
    if INDEX_FILE not in manifest.files and _sqlite_file(settings.db_url) is not None:
        problems.append(
            "the backup holds no local database (it was made with SALESMEMORY_DB_URL on a "
            "server): set SALESMEMORY_DB_URL to that server"
        )
    if MEMORY_FILE in manifest.files and not settings.embedded_memory:
        problems.append(
            "the backup holds the embedded memory server's database, but HINDSIGHT_URL is set: "
            "unset it to restore into this home"
        )
    if MEMORY_FILE not in manifest.files and settings.embedded_memory:
        # An index without its memory would list prospects whose calls are nowhere.
        problems.append(
            "the backup holds no memory (it was made with HINDSIGHT_URL set): set "
            "HINDSIGHT_URL to that server, whose own backup holds the calls"
        )
    return problems


def restore(settings: Settings, source: Path) -> Manifest:
    """Put the backup in `source` into this configuration's home, which must hold no data.
    The home's lock is held throughout, so no bot starts on it halfway."""
    manifest = read_manifest(source)
    problems = _restore_problems(settings, manifest)
    if problems:
        raise BackupError("Cannot restore: " + "; ".join(problems) + ".")
    _owned_by_caller(settings.home)
    with home_to_itself(settings.home):
        held = _data_in_home(settings)
        if held:
            raise BackupError(
                f"{settings.home} already holds data ({', '.join(held)}); nothing was changed. "
                "Restore only into an empty home: stop the bot and point SALESMEMORY_HOME to a "
                "new folder (or move this one aside)."
            )
        written: list[Path] = []
        try:
            if MEMORY_FILE in manifest.files:
                load_memory(settings.home, source / MEMORY_FILE, settings.pg_user)
            for name, path in _local_files(settings).items():
                if name in manifest.files:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    written.append(path)
                    copy_sqlite(source / name, path)
        except BaseException:
            # The home held nothing and no bot could start meanwhile: all of it is ours.
            for path in written:
                path.unlink(missing_ok=True)
                path.with_name(path.name + ".partial").unlink(missing_ok=True)
            if MEMORY_FILE in manifest.files:
                remove_memory_data(settings.home)
            raise
    return manifest


def _owned_by_caller(home: Path) -> None:
    """A home made by another user (the bot's service user, root) stays theirs: files this
    process writes there would be unreadable to the bot, or the bot's to this process."""
    try:
        owner = home.stat().st_uid
    except FileNotFoundError:
        return
    if owner != os.geteuid():
        raise BackupError(
            f"{home} belongs to user id {owner}, not to you ({os.geteuid()}): run this as the "
            "user the bot runs as."
        )


def backup_command(settings: Settings, target: Path) -> int:
    """`python -m bot backup DIR`: one line per part, what is not included, the exit code."""
    try:
        manifest = back_up(settings, target)
    except (BackupError, OSError, sqlite3.Error) as error:
        print(f"backup error: {error}", file=sys.stderr)
        return 1
    print(f"backed up to {target}: {', '.join(manifest.files) or 'nothing'}")
    for outside in manifest.not_included:
        print(f"not included: {outside}")
    return 0


def restore_command(settings: Settings, source: Path) -> int:
    """`python -m bot restore DIR`: what was restored from which backup, or why not."""
    try:
        manifest = restore(settings, source)
    except (BackupError, OSError, sqlite3.Error) as error:
        print(f"restore error: {error}", file=sys.stderr)
        return 1
    print(
        f"restored {', '.join(manifest.files)} into {settings.home} from a backup made "
        f"{manifest.created} by version {manifest.version}; start the bot with `python -m bot`"
    )
    for outside in manifest.not_included:
        print(f"not in this backup: {outside}")
    return 0
