"""The deploy files (Dockerfile, compose.yaml, manifest.http.yml) hold together.

No container engine runs on the machines CI uses, so the image is not built here. What can be
checked offline is: the Dockerfile's own build-time model check, run in this environment; the
Dockerfile's shape (non-root, installed from the lock without test tools, no torch, offline
model settings that match what the installed packages hold); compose.yaml against what each
service needs (its settings and `docker-compose config`: test_compose_env.py); the HTTP-mode
manifest.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shlex
import subprocess
import sys
import sysconfig
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from memory.embedding_model import embedding_env

ROOT = Path(__file__).parents[2]
IMAGE_VENV = "/opt/venv"
LOCKED_OUT = ("torch", "nvidia-", "triton", "sentence-transformers")


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    current = ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        current += " " + stripped.removesuffix("\\").strip()
        if not stripped.endswith("\\"):
            keyword, _, args = current.strip().partition(" ")
            instructions.append((keyword.upper(), args.strip()))
            current = ""
    return instructions


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, args in dockerfile():
        if keyword == "ENV":
            for pair in shlex.split(args):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return data


def service_env(name: str) -> dict[str, str]:
    return {k: str(v) for k, v in compose()["services"][name]["environment"].items()}


def healthcheck_command(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else str(test)


# --- Dockerfile ---------------------------------------------------------------------------


def test_image_runs_as_an_unprivileged_user() -> None:
    instructions = dockerfile()
    users = [i for i, (keyword, _) in enumerate(instructions) if keyword == "USER"]
    assert users, "the Dockerfile never switches away from root"
    user = instructions[users[-1]][1].split(":")[0]
    assert user not in ("root", "0")
    # Nothing after the switch runs as root again, and the command runs as that user.
    runs = [i for i, (keyword, _) in enumerate(instructions) if keyword == "RUN"]
    assert max(runs) < users[-1]
    assert [keyword for keyword, _ in instructions][-1] == "CMD"


def test_image_is_built_from_the_python_of_the_lock_and_says_how_it_is_pinned() -> None:
    base = next(args for keyword, args in dockerfile() if keyword == "FROM")
    image, _, tag = base.partition(":")
    assert image == "python" and tag and tag != "latest"
    version = re.match(r"(\d+\.\d+)", tag)
    assert version is not None
    lock_header = (ROOT / "constraints.txt").read_text().splitlines()[1]
    assert f"python {version.group(1)}." in lock_header
    assert f"{sys.version_info.major}.{sys.version_info.minor}" == version.group(1)
    # A tag moves with every patch release: unless a digest fixes it, the file says so.
    if "@sha256:" not in tag:
        assert "named by tag, not digest" in (ROOT / "Dockerfile").read_text()
        assert "named by tag, not digest" in (ROOT / "compose.yaml").read_text()


def install_script_commands() -> list[str]:
    return [
        line.strip()
        for line in (ROOT / ".ci" / "install").read_text().splitlines()
        if "pip install" in line and not line.lstrip().startswith("#")
    ]


def test_the_image_installs_with_the_production_install_which_is_pinned() -> None:
    runs = [args for keyword, args in dockerfile() if keyword == "RUN"]
    assert [run for run in runs if "pip install" in run] == []
    assert any("bash .ci/install --prod" in run for run in runs)
    commands = install_script_commands()
    assert commands
    for command in commands:
        # pip itself is brought up to date first; every package after it comes from the lock.
        if command.endswith("--upgrade pip"):
            continue
        assert "--constraint constraints.txt" in command, command
        assert "torch" not in command and "cuda" not in command.lower(), command


def requirement_names(requirements: list[str]) -> set[str]:
    return {
        re.split(r"[\s\[<>=~!;]", requirement, maxsplit=1)[0].lower()
        for requirement in requirements
    }


def installed_closure(requirements: list[str]) -> set[str]:
    """The names of every installed distribution `requirements` pull in, markers applied."""
    found: dict[str, set[str]] = {}
    todo = [Requirement(requirement) for requirement in requirements]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in found and requirement.extras <= found[name]:
            continue
        found[name] = found.get(name, set()) | requirement.extras
        for text in metadata.distribution(name).requires or []:
            needed = Requirement(text)
            contexts = [{"extra": extra} for extra in found[name] or {""}]
            if needed.marker is None or any(needed.marker.evaluate(c) for c in contexts):
                todo.append(needed)
    return set(found)


def test_the_production_install_holds_no_test_tools_and_the_default_one_does() -> None:
    def extras(*args: str) -> list[str]:
        result = subprocess.run(
            [sys.executable, ".ci/extras.py", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip().split(",")

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    optional = project["optional-dependencies"]
    prod = extras("--prod")
    assert {"embedded", "postgresql"} <= set(prod)
    tools = {"pytest", "pytest-asyncio", "ruff", "mypy"}
    wanted = list(project["dependencies"])
    for extra in prod:
        wanted += optional[extra]
    assert requirement_names(wanted) & tools == set()
    # Nor does anything they depend on bring one in (as installed here from the same lock).
    assert installed_closure(wanted) & tools == set()
    # What CI and development install (`.ci/install` alone) keeps every extra, tools included.
    everything = extras()
    assert set(everything) == set(optional)
    assert tools <= requirement_names([r for extra in everything for r in optional[extra]])


def test_the_lock_holds_no_torch_or_cuda_package() -> None:
    pins = [
        line.split("==")[0].lower()
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert "hindsight-api-slim" in pins and "onnxruntime" in pins
    assert [p for p in pins if p.startswith(LOCKED_OUT)] == []


def test_the_lock_covers_every_extra_the_image_and_ci_install() -> None:
    header = (ROOT / "constraints.txt").read_text().splitlines()[0]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for extra in project["optional-dependencies"]:
        assert extra in header, f"constraints.txt was made without the {extra!r} extra"
    pins = (ROOT / "constraints.txt").read_text()
    assert "\npsycopg==" in pins


def test_image_embedding_settings_are_the_installed_models_files() -> None:
    """The ENV the image gives hindsight-api is what memory/embedding_model.py finds, moved
    from this environment's site-packages to the image's."""
    here = sysconfig.get_paths()["purelib"]
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    there = f"{IMAGE_VENV}/lib/{version}/site-packages"
    expected = {key: value.replace(here, there) for key, value in embedding_env().items()}
    env = image_env()
    assert {key: env.get(key) for key in expected} == expected
    assert env["HF_HUB_OFFLINE"] == "1"
    assert env["HINDSIGHT_API_RERANKER_PROVIDER"] == "rrf"
    assert env["VIRTUAL_ENV"] == IMAGE_VENV


def test_image_build_checks_the_model_offline_and_that_check_passes_here() -> None:
    """The image runs `python -m memory.embedding_model --check` at build time: run it here,
    with no way to reach a model hub, the way the build would."""
    runs = " ".join(args for keyword, args in dockerfile() if keyword == "RUN")
    assert "python -m memory.embedding_model --check" in runs
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env["HTTPS_PROXY"] = env["HTTP_PROXY"] = "http://127.0.0.1:9"  # any download fails fast
    result = subprocess.run(
        [sys.executable, "-m", "memory.embedding_model", "--check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "384 dimensions" in result.stdout


def test_exec_form_commands_are_valid_json() -> None:
    for keyword, args in dockerfile():
        if keyword in ("CMD", "HEALTHCHECK"):
            exec_form = args[args.index("[") :]
            assert all(isinstance(part, str) for part in json.loads(exec_form)), keyword


def test_everything_the_image_copies_exists_and_is_not_ignored() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", ".env"} <= ignored
    for keyword, args in dockerfile():
        if keyword == "COPY":
            *sources, _ = args.split()
            for source in sources:
                assert (ROOT / source).exists(), source
                assert source.split("/")[0] not in ignored, source


# --- compose.yaml -------------------------------------------------------------------------


def test_compose_runs_postgres_hindsight_two_bots_and_a_proxy() -> None:
    assert set(compose()["services"]) == {"postgres", "hindsight", "bot-1", "bot-2", "proxy"}


def test_every_service_has_a_health_check_and_waits_for_what_it_needs() -> None:
    services = compose()["services"]
    for name, service in services.items():
        assert "healthcheck" in service, name
    needs = {
        "hindsight": {"postgres"},
        "bot-1": {"postgres", "hindsight"},
        "bot-2": {"postgres", "hindsight"},
        "proxy": {"bot-1", "bot-2"},
    }
    for name, wanted in needs.items():
        depends = services[name]["depends_on"]
        assert set(depends) == wanted, name
        assert all(d["condition"] == "service_healthy" for d in depends.values()), name


def test_bots_run_in_http_mode_sharing_one_database_and_one_hindsight() -> None:
    services = compose()["services"]
    hindsight = service_env("hindsight")
    for name in ("bot-1", "bot-2"):
        env = service_env(name)
        assert services[name]["image"] == services["hindsight"]["image"]
        assert env["SLACK_APP_TOKEN"] == ""  # HTTP mode
        assert "SLACK_SIGNING_SECRET" in env
        assert env["HINDSIGHT_URL"] == f"http://hindsight:{hindsight['HINDSIGHT_API_PORT']}"
        assert env["HINDSIGHT_API_KEY"] == hindsight["HINDSIGHT_API_TENANT_API_KEY"]
        # The bots purge what Hindsight's API cannot delete in the database it runs on.
        assert env["HINDSIGHT_DATABASE_URL"] == hindsight["HINDSIGHT_API_DATABASE_URL"]
        assert re.fullmatch(
            r"postgresql\+psycopg://salesmemory:.+@postgres:5432/salesmemory",
            env["SALESMEMORY_DB_URL"],
        )
        assert f"127.0.0.1:{env['PORT']}/readyz" in healthcheck_command(services[name])
        assert "ports" not in services[name]  # only the proxy faces Slack
    assert service_env("bot-1") == service_env("bot-2")


def test_hindsight_service_runs_the_api_with_settings_it_knows() -> None:
    import hindsight_api.config as hindsight_config
    from hindsight_api.extensions.tenant import TenantExtension

    known = {v for k, v in vars(hindsight_config).items() if k.startswith("ENV_")}
    service = compose()["services"]["hindsight"]
    assert service["command"] == ["hindsight-api"]
    scripts = {ep.name for ep in metadata.entry_points(group="console_scripts")}
    assert "hindsight-api" in scripts
    env = service_env("hindsight")
    # The tenant extension's own settings: its class, and what it is configured with (its
    # loader hands it every HINDSIGHT_API_TENANT_* variable).
    tenant = {"HINDSIGHT_API_TENANT_EXTENSION", "HINDSIGHT_API_TENANT_API_KEY"}
    assert set(env) - known == tenant
    extension = env["HINDSIGHT_API_TENANT_EXTENSION"]
    module, name = extension.split(":")
    assert issubclass(getattr(importlib.import_module(module), name), TenantExtension)
    # What an erasure needs of it (as the embedded server): payloads pruned, no traces kept.
    assert env["HINDSIGHT_API_OPERATION_RETENTION_DAYS"] == "1"
    assert (
        env["HINDSIGHT_API_LLM_TRACE_ENABLED"] == env["HINDSIGHT_API_AUDIT_LOG_ENABLED"] == "false"
    )
    assert env["HINDSIGHT_API_HOST"] == "0.0.0.0"
    assert re.fullmatch(
        r"postgresql://hindsight:.+@postgres:5432/hindsight", env["HINDSIGHT_API_DATABASE_URL"]
    )
    assert f"127.0.0.1:{env['HINDSIGHT_API_PORT']}/health" in healthcheck_command(service)
    # Its embedding settings come from the image (checked above); none overridden here.
    assert not [key for key in env if key.startswith("HINDSIGHT_API_EMBEDDINGS_")]


def test_postgres_init_creates_the_databases_the_services_use() -> None:
    services = compose()["services"]
    mounts = services["postgres"]["volumes"]
    init = next(m for m in mounts if "docker-entrypoint-initdb.d" in m)
    sql = (ROOT / init.split(":")[0]).read_text()
    for database in ("hindsight", "salesmemory"):
        assert f"CREATE DATABASE {database} OWNER {database};" in sql
    assert "CREATE EXTENSION IF NOT EXISTS vector;" in sql
    assert "pgvector" in services["postgres"]["image"]


def test_proxy_sends_slack_to_both_replicas_on_their_port() -> None:
    services = compose()["services"]
    mount = next(m for m in services["proxy"]["volumes"] if "Caddyfile" in m)
    caddyfile = (ROOT / mount.split(":")[0]).read_text()
    port = service_env("bot-1")["PORT"]
    assert f"reverse_proxy bot-1:{port} bot-2:{port}" in caddyfile
    assert "/slack/events" in caddyfile


# --- manifests ----------------------------------------------------------------------------


def test_http_manifest_is_the_socket_mode_app_with_request_urls() -> None:
    socket = yaml.safe_load((ROOT / "manifest.yml").read_text())
    http = yaml.safe_load((ROOT / "manifest.http.yml").read_text())
    assert http["settings"]["socket_mode_enabled"] is False
    urls = [c.pop("url") for c in http["features"]["slash_commands"]]
    settings = http["settings"]
    urls += [
        settings["event_subscriptions"].pop("request_url"),
        settings["interactivity"].pop("request_url"),
        settings["interactivity"].pop("message_menu_options_url"),
    ]
    assert len(set(urls)) == 1 and urls[0].startswith("https://")
    assert urls[0].endswith("/slack/events")
    settings["socket_mode_enabled"] = True
    assert http == socket
