"""compose.yaml's settings: every variable the bot reads reaches both replicas, every variable
compose itself reads is documented, and the set-up recipe in its header works as written.

The recipe is taken from compose.yaml's header and run with bash in a scratch copy of the
project's deploy files, so a change to the header is what gets tested. The `.env` it makes is
read with python-dotenv (close to Compose's own parser) and, where installed (.ci/install installs
it), by docker-compose itself.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from dotenv import dotenv_values

from bot.config import SettingsError, load_settings

ROOT = Path(__file__).parents[2]
BOTS = ("bot-1", "bot-2")
# What the recipe must write: each on its own line, random, letters and digits only.
SECRETS = (
    "POSTGRES_PASSWORD",
    "HINDSIGHT_DB_PASSWORD",
    "SALESMEMORY_DB_PASSWORD",
    "HINDSIGHT_API_KEY",
)


class _Recording(dict[str, str]):
    """An empty environment that notes every variable asked of it."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return super().get(key, default)


def settings_the_bot_reads() -> set[str]:
    environ = _Recording()
    with pytest.raises(SettingsError):
        load_settings(environ)
    return environ.asked


def compose_text() -> str:
    return (ROOT / "compose.yaml").read_text()


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(compose_text())
    return data


def header() -> list[str]:
    lines = []
    for line in compose_text().splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return lines


def recipe() -> str:
    """The header's first block of commands (indented three spaces), without `docker`."""
    block: list[str] = []
    for line in header():
        if line.startswith("#   ") and not line.startswith("#    "):
            block.append(line.removeprefix("#   "))
        elif block:
            break
    assert block, "compose.yaml's header shows no commands"
    return "\n".join(command for command in block if not command.startswith("docker "))


def documented(path: Path) -> set[str]:
    """Variables an env file names, set (KEY=) or shown commented out (# KEY=)."""
    pattern = re.compile(r"^(?:# )?([A-Z][A-Z0-9_]*)=", re.M)
    return set(pattern.findall(path.read_text()))


def interpolated() -> set[str]:
    """Every variable compose.yaml takes from .env or the shell (${NAME...})."""
    body = "\n".join(compose_text().splitlines()[len(header()) :])
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", body))


@pytest.fixture
def deploy_copy(tmp_path: Path) -> Iterator[Path]:
    """compose.yaml, .env.example and deploy/ in a scratch directory, the recipe run there."""
    for name in ("compose.yaml", ".env.example"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", recipe()],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    yield tmp_path


# --- the bots' settings -------------------------------------------------------------------


def test_every_setting_the_bot_reads_reaches_both_replicas_from_dotenv() -> None:
    read = settings_the_bot_reads()
    assert {"SLACK_BOT_TOKEN", "GROQ_TIMEOUT", "RUN_SCHEDULER", "HINDSIGHT_BANK_PREFIX"} <= read
    # Each is documented where the admin fills it in, and .env reaches the bots whole.
    assert read - documented(ROOT / ".env.example") == set()
    services = compose()["services"]
    for name in BOTS:
        env_file = services[name]["env_file"]
        assert ".env" in ([env_file] if isinstance(env_file, str) else env_file), name


def test_the_bots_environment_only_overrides_what_the_stack_decides() -> None:
    """No hand-kept copy of .env: each entry sets a value of the stack's own, or (`:?`) makes
    compose refuse to start without a variable; none merely passes one through."""
    environment = compose()["services"]["bot-1"]["environment"]
    for key, value in environment.items():
        passed_through = re.fullmatch(rf"\$\{{{key}(:?-[^}}]*)?\}}", str(value))
        assert passed_through is None, f"{key} is copied from .env by hand"
    decided = {
        "SLACK_APP_TOKEN": "",
        "PORT": "3000",
        "HINDSIGHT_URL": "http://hindsight:8888",
        "SALESMEMORY_HOME": "/home/salesmemory/data",
        "POSTGRES_PASSWORD": "",
    }
    assert {key: str(environment[key]) for key in decided} == decided


def test_every_variable_compose_reads_is_documented_in_env_example_and_the_header() -> None:
    names = interpolated()
    assert {"HTTP_PORT", "HTTPS_PORT", "PLAIN_PORT", "SALESMEMORY_SITE"} <= names
    assert names - documented(ROOT / ".env.example") == set()
    # Those the bot does not read are explained where compose.yaml starts.
    own = names - settings_the_bot_reads() - {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"}
    text = "\n".join(header())
    assert [name for name in sorted(own) if name not in text] == []


# --- the set-up recipe --------------------------------------------------------------------


def test_the_header_recipe_writes_each_secret_on_its_own_line(deploy_copy: Path) -> None:
    env_file = deploy_copy / ".env"
    values = dotenv_values(env_file)
    secrets = [values.get(name) or "" for name in SECRETS]
    assert all(re.fullmatch(r"[A-Za-z0-9]{32,}", secret) for secret in secrets), secrets
    assert len(set(secrets)) == len(SECRETS)
    # Set once: no parser's rule for a repeated key decides which value counts.
    lines = [line for line in env_file.read_text().splitlines() if not line.startswith("#")]
    for name in SECRETS:
        assert len([line for line in lines if line.startswith(f"{name}=")]) == 1, name
    # The rest of .env.example is still there to fill in.
    assert "SLACK_BOT_TOKEN" in values and "GROQ_API_KEY" in values


def docker_compose_config(project: Path) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("docker-compose")
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("docker-compose is missing: .ci/install installs it (Debian package)")
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    return subprocess.run(
        [tool, "--file", "compose.yaml", "config"],
        cwd=project,
        # Only .env speaks: nothing of this shell's environment is interpolated.
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_compose_reads_the_recipes_env_and_hands_the_bots_every_setting(
    deploy_copy: Path,
) -> None:
    env_file = deploy_copy / ".env"
    filled = {
        "SLACK_BOT_TOKEN": "xoxb-check",
        "SLACK_SIGNING_SECRET": "check",
        "GROQ_TIMEOUT": "12",
        "RUN_SCHEDULER": "false",
        "HINDSIGHT_BANK_PREFIX": "acme",
        "PORT": "4000",
    }
    text = env_file.read_text()
    for key, value in filled.items():
        text = re.sub(rf"^{key}=$", f"{key}={value}", text, flags=re.M)
    env_file.write_text(text)
    result = docker_compose_config(deploy_copy)
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    secrets = dotenv_values(env_file)
    for name in BOTS:
        env = resolved["services"][name]["environment"]
        assert {key: env[key] for key in ("GROQ_TIMEOUT", "RUN_SCHEDULER")} == {
            "GROQ_TIMEOUT": "12",
            "RUN_SCHEDULER": "false",
        }
        assert env["HINDSIGHT_BANK_PREFIX"] == "acme"
        # The stack's own values win over .env's.
        assert env["PORT"] == "3000" and env["SLACK_APP_TOKEN"] == ""
        assert env["HINDSIGHT_API_KEY"] == secrets["HINDSIGHT_API_KEY"]
        assert f":{secrets['SALESMEMORY_DB_PASSWORD']}@" in env["SALESMEMORY_DB_URL"]
        assert env["POSTGRES_PASSWORD"] == ""
        assert settings_the_bot_reads() <= set(env)
    postgres = resolved["services"]["postgres"]["environment"]
    assert postgres["POSTGRES_PASSWORD"] == secrets["POSTGRES_PASSWORD"]

    # Without the key the memory server would be open to anyone: compose refuses, and says why.
    env_file.write_text(re.sub(r"^HINDSIGHT_API_KEY=.*$", "", text, flags=re.M))
    keyless = docker_compose_config(deploy_copy)
    assert keyless.returncode != 0 and "set HINDSIGHT_API_KEY in .env" in keyless.stderr
