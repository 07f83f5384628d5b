"""pg0's PostgreSQL for the embedded memory server: how it is run, started, and repaired.

PostgreSQL refuses to run as root; as root, pg0 runs in a user namespace where it is an
ordinary user (the files stay the caller's), or, where user namespaces are not allowed, as an
unprivileged user that owns a copy of the pg0 binary and the data directory.

pg0 unpacks PostgreSQL into `$HOME/.pg0/installation/<version>` (HOME is the pg home here) and
only checks that the directory exists. A first start cut short (Ctrl-C, SIGKILL) leaves a
half-unpacked installation or a half-made data directory, and every later start fails
("Bus error", "initdb: ... not found", "could not open pg_control"). Markers written only
after a start succeeded tell a finished installation and data directory from half-made ones.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pwd
import re
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from memory.home_secrets import home_secret, read_secret

logger = logging.getLogger(__name__)

PG_INSTANCE = "salesmemory"
_PG_NAME = "hindsight"
# What every home made before passwords were generated per home was initialised with.
LEGACY_PASSWORD = "hindsight"
# pg0 connects as this superuser (with the start password) to make the database's user.
_PG_SUPERUSER = "postgres"
_NAMESPACE_UID = 1000
_FALLBACK_USER = "nobody"
_PG0_SECONDS = 120.0
# Present while a first start (no data directory yet) is under way; left behind if it was cut.
_FIRST_START = ".first-start-incomplete"
# The identity of the pg0 binary whose PostgreSQL was unpacked completely.
_INSTALLED = ".installation-complete"


# A connection URI's password (pg0 prints URIs), up to the last @ before the host.
_URI_PASSWORD = re.compile(r"(?P<head>postgres(?:ql)?://[^:/@\s]*:)\S*@")


def redacted(text: str, *secrets: str) -> str:
    """`text` (pg0's own output) fit for an error message: the given secrets and any
    connection URI's password replaced by `***`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _URI_PASSWORD.sub(r"\g<head>***@", text)


class EmbeddedMemoryError(Exception):
    """The embedded memory server could not be started; the message says why and what to do."""


@dataclass(frozen=True)
class RunningPostgres:
    uri: str
    pid: int

    @property
    def port(self) -> int | None:
        return make_url(self.uri).port


@dataclass
class PgRunner:
    """How pg0 is run: directly, in a user namespace, or as an unprivileged user."""

    home: Path
    binary: Path
    prefix: list[str]
    user: str | None = None

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    def run(
        self,
        *args: str,
        check: bool = True,
        cancel: threading.Event | None = None,
        secrets: tuple[str, ...] = (),
    ) -> subprocess.CompletedProcess[str]:
        """Run pg0 in a session of its own: Ctrl-C in the terminal reaches us, not pg0.

        Interrupted (KeyboardInterrupt, `cancel`, timeout), pg0 and its helpers are killed;
        the next start repairs what they left half-made.
        """
        process = subprocess.Popen(
            [*self.prefix, str(self.binary), *args],
            env={**_minimal_env(), "HOME": str(self.home)},
            cwd=self.home,
            user=self.user,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            stdout, stderr = _communicate(process, cancel, f"pg0 {args[0]}")
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
        result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        if check and result.returncode != 0:
            said = redacted(result.stderr.strip(), *secrets)[-800:]
            raise EmbeddedMemoryError(f"pg0 {args[0]} failed ({result.returncode}): {said}")
        return result

    def info(self) -> dict[str, object]:
        result = self.run("info", "--name", PG_INSTANCE, "-o", "json", check=False)
        try:
            info = json.loads(result.stdout or "{}")
        except ValueError:
            return {}
        return info if isinstance(info, dict) else {}


def _communicate(
    process: subprocess.Popen[str], cancel: threading.Event | None, what: str
) -> tuple[str, str]:
    # Short slices, so a stop() from another thread is noticed within a fraction of a second.
    waited = 0.0
    while True:
        try:
            return process.communicate(timeout=0.2)
        except subprocess.TimeoutExpired:
            waited += 0.2
        if cancel is not None and cancel.is_set():
            raise EmbeddedMemoryError(f"{what} was cut short: the server is stopping")
        if waited >= _PG0_SECONDS:
            raise EmbeddedMemoryError(f"{what} did not finish within {_PG0_SECONDS:.0f}s")


def _minimal_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}


def _pg0_binary() -> Path:
    try:
        import pg0
    except ImportError as exc:
        raise EmbeddedMemoryError(
            "The embedded memory server is not installed: install the 'embedded' extra "
            "(pip install -e '.[embedded]') or set HINDSIGHT_URL to an existing Hindsight."
        ) from exc
    binary = Path(pg0.__file__).parent / "bin" / "pg0"
    if not binary.exists():
        raise EmbeddedMemoryError(f"pg0's PostgreSQL binary is missing at {binary}.")
    return binary


def _user_namespace_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        [
            "unshare",
            "--user",
            f"--map-user={_NAMESPACE_UID}",
            f"--map-group={_NAMESPACE_UID}",
            "true",
        ],
        capture_output=True,
    )
    return probe.returncode == 0


def _reachable_by(path: Path, user: str) -> bool:
    """Whether `user` may enter every directory on the way to `path`."""
    entry = pwd.getpwnam(user)
    for part in [path, *path.parents]:
        if not part.exists():
            continue
        st = part.stat()
        if st.st_uid == entry.pw_uid:
            allowed = st.st_mode & 0o100
        elif st.st_gid == entry.pw_gid:
            allowed = st.st_mode & 0o010
        else:
            allowed = st.st_mode & 0o001
        if not allowed:
            return False
    return True


def pg_runner(pg_home: Path, pg_user: str | None = None) -> PgRunner:
    """How to run pg0 here; `pg_user` (else SALESMEMORY_PG_USER) when namespaces are refused."""
    pg_home.mkdir(parents=True, exist_ok=True)
    binary = _pg0_binary()
    if os.geteuid() != 0:
        return _private(PgRunner(pg_home, binary, []))
    if _user_namespace_works():
        prefix = [
            "unshare",
            "--user",
            f"--map-user={_NAMESPACE_UID}",
            f"--map-group={_NAMESPACE_UID}",
        ]
        return _private(PgRunner(pg_home, binary, prefix))
    user = pg_user or os.environ.get("SALESMEMORY_PG_USER", _FALLBACK_USER)
    if not _reachable_by(pg_home, user):
        raise EmbeddedMemoryError(
            f"PostgreSQL cannot run as root and user namespaces are not allowed here, so it runs "
            f"as '{user}', who cannot reach {pg_home}. Set SALESMEMORY_HOME to a directory "
            f"outside /root (e.g. /var/lib/salesmemory)."
        )
    entry = pwd.getpwnam(user)
    own_binary = pg_home / "pg0"
    if not own_binary.exists() or own_binary.stat().st_size != binary.stat().st_size:
        # Copied aside and renamed, so an interrupted copy never passes for the binary.
        partial = pg_home / "pg0.partial"
        shutil.copy2(binary, partial)
        partial.replace(own_binary)
    for root, dirs, files in os.walk(pg_home):
        for name in [*dirs, *files, "."]:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)
    return _private(PgRunner(pg_home, own_binary, [], user=user))


def _private(runner: PgRunner) -> PgRunner:
    # pg0 keeps the running instance's connection URI (password included) under its home;
    # in the fallback the home belongs to the unprivileged user by now.
    runner.home.chmod(0o700)
    return runner


def _binary_identity(binary: Path) -> str:
    st = binary.stat()
    return f"{st.st_size}:{int(st.st_mtime)}"


def _repair_half_made(runner: PgRunner) -> None:
    """Remove what a first start or an unpack cut short left behind, so pg0 redoes it."""
    home, data = runner.home, runner.data_dir
    # A data directory without pg_control never finished initdb: it holds no notes.
    never_initialised = data.exists() and not (data / "global" / "pg_control").exists()
    if (home / _FIRST_START).exists() or never_initialised:
        logger.warning(
            "The first start of the embedded PostgreSQL in %s did not finish; "
            "removing what it left and starting afresh",
            home,
        )
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(home / ".pg0", ignore_errors=True)
        (home / _INSTALLED).unlink(missing_ok=True)
    installed = home / _INSTALLED
    if not installed.exists() or installed.read_text() != _binary_identity(runner.binary):
        # Unknown or cut-short unpack: pg0 unpacks again when the directory is missing.
        shutil.rmtree(home / ".pg0" / "installation", ignore_errors=True)


def start_postgres(
    runner: PgRunner, port: int, password_file: Path, cancel: threading.Event | None = None
) -> RunningPostgres:
    """Start this home's PostgreSQL (repairing a cut-short first start); any running one of
    this home must have been stopped already.

    The password is generated per home and kept in `password_file`. A data directory made
    before that (initialised with LEGACY_PASSWORD, no password file) is started with the old
    password once and its roles are given a new one at once: a password printed in our source
    protects nothing. The new password is written beside the file (`.pending`) before it is
    set, so a start cut short between the two still finds it next time.
    """
    if runner.info().get("running"):
        # pg0 refuses to start a running instance; only a stale one can be running here.
        runner.run("stop", "--name", PG_INSTANCE, check=False, cancel=cancel)
    _repair_half_made(runner)
    if not runner.data_dir.exists():
        (runner.home / _FIRST_START).touch()
        password_file.unlink(missing_ok=True)
    pending = password_file.with_name(password_file.name + ".pending")
    password = read_secret(password_file)
    if password is None and not runner.data_dir.exists():
        password = home_secret(password_file)
    legacy, rotate_to = password is None, None
    if password is not None:
        _pg0_start(runner, port, password, cancel)
    else:
        password, rotate_to = _start_legacy(runner, port, pending, cancel)
    # Asked before any rotation: pg0 answers with the password it was started with.
    info = runner.info()
    uri, pid = info.get("uri"), info.get("pid")
    if not isinstance(uri, str) or not isinstance(pid, int):
        raise EmbeddedMemoryError("pg0 started but reported no connection URI or pid")
    if rotate_to is not None:
        _set_password(port, password, rotate_to)
        password = rotate_to
    if legacy:
        pending.replace(password_file)
    (runner.home / _INSTALLED).write_text(_binary_identity(runner.binary))
    (runner.home / _FIRST_START).unlink(missing_ok=True)
    url = make_url(uri).set(password=password).render_as_string(hide_password=False)
    return RunningPostgres(url, pid)


def _pg0_start(runner: PgRunner, port: int, password: str, cancel: threading.Event | None) -> None:
    # pg0 takes the password on its command line only; it runs for a few seconds at start.
    runner.run(
        "start",
        "--name",
        PG_INSTANCE,
        "--port",
        str(port),
        "--data-dir",
        str(runner.data_dir),
        "--username",
        _PG_NAME,
        "--password",
        password,
        "--database",
        _PG_NAME,
        cancel=cancel,
        secrets=(password,),
    )


def _start_legacy(
    runner: PgRunner, port: int, pending: Path, cancel: threading.Event | None
) -> tuple[str, str | None]:
    """Start a home initialised with LEGACY_PASSWORD: (the password it started with, the
    generated one to give its roles now, or None when an earlier start already did)."""
    new = home_secret(pending)
    try:
        _pg0_start(runner, port, LEGACY_PASSWORD, cancel)
    except EmbeddedMemoryError as error:
        if "password authentication failed" not in str(error):
            raise
        # An earlier start set the new password and was cut short before saving it.
        _pg0_start(runner, port, new, cancel)
        return new, None
    logger.warning(
        "The embedded PostgreSQL in %s still had the fixed password of earlier versions; "
        "it now gets one generated for this home",
        runner.home,
    )
    return LEGACY_PASSWORD, new


def _set_password(port: int, old: str, new: str) -> None:
    import psycopg2  # hindsight-api's own dependency: here whenever pg0 is
    from psycopg2 import sql

    conn = psycopg2.connect(
        host="127.0.0.1",
        port=port,
        user=_PG_SUPERUSER,
        password=old,
        dbname=_PG_NAME,
        connect_timeout=10,
    )
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute(
                "SELECT rolname FROM pg_roles WHERE rolname IN (%s, %s)",
                (_PG_SUPERUSER, _PG_NAME),
            )
            for (role,) in cursor.fetchall():
                cursor.execute(
                    sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                        sql.Identifier(role), sql.Literal(new)
                    )
                )
    finally:
        conn.close()
