from pathlib import Path

import pytest

from bot.config import load_settings
from bot.infra.memory_setup import embedded_llm, sales_bank_setup
from memory.embedded_env import HindsightLlm, hindsight_env
from memory.home_secrets import home_secret

HTTP = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "secret"}


def test_without_a_groq_key_the_embedded_server_stays_in_chunks_mode() -> None:
    assert embedded_llm(load_settings(HTTP)) is None
    env = hindsight_env("postgresql://db", 8888, "key", None)
    assert env["HINDSIGHT_API_LLM_PROVIDER"] == "none"
    assert not any(key.startswith("HINDSIGHT_API_LLM_API") for key in env)


def test_with_a_groq_key_the_embedded_server_reasons_with_its_own_small_model() -> None:
    settings = load_settings(
        {**HTTP, "GROQ_API_KEY": "gsk-1", "GROQ_BASE_URL": "http://127.0.0.1:9/", "GROQ_MODEL": "x"}
    )
    llm = embedded_llm(settings)
    assert llm == HindsightLlm("gsk-1", "openai/gpt-oss-20b", "http://127.0.0.1:9/openai/v1")
    env = hindsight_env("postgresql://db", 8888, "key", llm)
    assert env["HINDSIGHT_API_LLM_PROVIDER"] == "groq"
    assert env["HINDSIGHT_API_LLM_API_KEY"] == "gsk-1"
    assert env["HINDSIGHT_API_LLM_MODEL"] == "openai/gpt-oss-20b"
    assert env["HINDSIGHT_API_LLM_BASE_URL"] == "http://127.0.0.1:9/openai/v1"


def test_the_memory_model_is_a_setting_and_groqs_own_url_is_the_default() -> None:
    settings = load_settings({**HTTP, "GROQ_API_KEY": "gsk-1", "HINDSIGHT_LLM_MODEL": "m"})
    llm = embedded_llm(settings)
    assert llm is not None and llm.model == "m" and llm.base_url is None
    assert "HINDSIGHT_API_LLM_BASE_URL" not in hindsight_env("postgresql://db", 1, "key", llm)


def test_the_sales_bank_setup_comes_from_prompts() -> None:
    setup = sales_bank_setup()
    assert "commitments" in setup.retain_mission
    assert [group["key"] for group in setup.entity_labels] == [
        "objection",
        "buying_signal",
        "stakeholder_role",
    ]
    assert setup.observation_scopes == [["prospect:*"]]


def test_the_embedded_server_gets_only_the_environment_it_needs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-secret")
    monkeypatch.setenv("SALESMEMORY_DB_URL", "postgresql://u:pw@db/x")
    monkeypatch.setenv("GROQ_API_KEY", "gsk-parent")
    monkeypatch.setenv("HINDSIGHT_API_TENANT_API_KEY", "from-parent")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.setenv("TZ", "Europe/Paris")
    env = hindsight_env("postgresql://db", 8888, "home-key", None)
    assert not {"SLACK_BOT_TOKEN", "SALESMEMORY_DB_URL", "GROQ_API_KEY"} & env.keys()
    assert "gsk-parent" not in env.values()
    assert env["HINDSIGHT_API_TENANT_API_KEY"] == "home-key"
    assert env["LC_ALL"] == "C.UTF-8" and env["TZ"] == "Europe/Paris"
    assert env["PATH"]


def test_the_embedded_server_keeps_no_operation_payload_or_trace_for_long() -> None:
    env = hindsight_env("postgresql://db", 8888, "key", None)
    assert env["HINDSIGHT_API_OPERATION_RETENTION_DAYS"] == "1"
    assert env["HINDSIGHT_API_LLM_TRACE_ENABLED"] == "false"
    assert env["HINDSIGHT_API_AUDIT_LOG_ENABLED"] == "false"


def test_home_secrets_never_start_like_a_command_line_option(tmp_path: Path) -> None:
    made = [home_secret(tmp_path / f"secret-{n}") for n in range(300)]
    assert all(value[0].isalnum() for value in made)
    assert len(set(made)) == 300
