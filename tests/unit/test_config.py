from pathlib import Path

import pytest

from bot.config import DEFAULT_SLACK_API_URL, SettingsError, load_settings, masked_url

HTTP = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "secret"}


def problems(env: dict[str, str]) -> list[str]:
    with pytest.raises(SettingsError) as raised:
        load_settings(env)
    return raised.value.problems


def test_each_bad_variable_gives_one_problem_line_naming_it() -> None:
    named = [line.split()[0] for line in problems({"PORT": "80a"})]
    assert named == ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "PORT"]


def test_socket_mode_needs_no_signing_secret() -> None:
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"})
    assert settings.socket_mode
    assert settings.slack_signing_secret is None


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({**HTTP, "SLACK_BOT_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN"),
        ({**HTTP, "SLACK_APP_TOKEN": "xoxb-2"}, "SLACK_APP_TOKEN"),
        ({**HTTP, "SLACK_API_URL": "slack.example"}, "SLACK_API_URL"),
        ({**HTTP, "PORT": "70000"}, "PORT"),
    ],
)
def test_malformed_value_is_rejected_naming_its_variable(env: dict[str, str], name: str) -> None:
    [line] = problems(env)
    assert line.startswith(f"{name} is malformed")


def test_slack_api_url_gains_a_trailing_slash() -> None:
    url = load_settings({**HTTP, "SLACK_API_URL": "http://localhost:8123/api"}).slack_api_url
    assert url == "http://localhost:8123/api/"


def test_defaults_when_only_required_values_are_set(tmp_path: Path) -> None:
    settings = load_settings({**HTTP, "SALESMEMORY_HOME": str(tmp_path)})
    assert settings.port == 3000
    assert settings.slack_api_url == DEFAULT_SLACK_API_URL == "https://slack.com/api/"
    assert settings.groq_model == "openai/gpt-oss-120b"
    assert settings.groq_model_fast == "openai/gpt-oss-20b"  # cheap first by default
    assert settings.db_url == f"sqlite:///{tmp_path / 'salesmemory.db'}"
    assert not settings.socket_mode


def test_the_fast_model_can_be_set_or_made_the_strong_one() -> None:
    settings = load_settings({**HTTP, "GROQ_MODEL": "big", "GROQ_MODEL_FAST": "small"})
    assert (settings.groq_model, settings.groq_model_fast) == ("big", "small")
    one = load_settings({**HTTP, "GROQ_MODEL": "big", "GROQ_MODEL_FAST": "big"})
    assert one.groq_model_fast == one.groq_model  # LlmClient then runs no cascade


def test_memory_is_embedded_only_when_hindsight_url_is_unset() -> None:
    assert load_settings(HTTP).embedded_memory
    assert not load_settings({**HTTP, "HINDSIGHT_URL": "http://h:8888"}).embedded_memory


def test_port_of_non_ascii_digits_is_reported_as_malformed_not_raised() -> None:
    [line] = problems({**HTTP, "PORT": "²"})
    assert line.startswith("PORT is malformed")


def test_the_job_store_gets_its_own_sqlite_file_beside_the_index() -> None:
    settings = load_settings({**HTTP, "SALESMEMORY_HOME": "/srv/sm"})
    assert settings.db_url == "sqlite:////srv/sm/salesmemory.db"
    assert settings.job_store_url == "sqlite:////srv/sm/salesmemory-jobs.db"
    shared = load_settings({**HTTP, "SALESMEMORY_DB_URL": "postgresql://u:p@db/sm"})
    assert shared.job_store_url == shared.db_url == "postgresql+psycopg://u:p@db/sm"


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u:p@db:5433/sm", "postgresql+psycopg://u:p@db:5433/sm"),
        ("postgresql+psycopg2://u:p@db/sm", "postgresql+psycopg2://u:p@db/sm"),
        ("sqlite:////srv/sm/index.db", "sqlite:////srv/sm/index.db"),
    ],
)
def test_a_bare_postgresql_url_uses_the_declared_driver_and_a_named_one_is_kept(
    given: str, used: str
) -> None:
    assert load_settings({**HTTP, "SALESMEMORY_DB_URL": given}).db_url == used


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("mysql://u:p@db/sm", "'mysql' is not supported"),
        ("postgresql+asyncpg://u:p@db/sm", "async-only"),
        ("postgresql://u:p@db:port/sm", "is not a database URL"),
        ("salesmemory.db", "is not a database URL"),
    ],
)
def test_a_database_the_index_cannot_use_stops_startup_with_one_line(url: str, words: str) -> None:
    [line] = problems({**HTTP, "SALESMEMORY_DB_URL": url})
    assert line.startswith("SALESMEMORY_DB_URL") and words in line


def test_run_scheduler_false_keeps_the_process_out_of_the_election() -> None:
    assert load_settings(HTTP).run_scheduler is True
    assert load_settings({**HTTP, "RUN_SCHEDULER": "false"}).run_scheduler is False
    [line] = problems({**HTTP, "RUN_SCHEDULER": "sometimes"})
    assert line.startswith("RUN_SCHEDULER is malformed")


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("LOG_LEVEL", "loud", "LOG_LEVEL is malformed"),
        ("SALESMEMORY_PG_USER", "nobody-here-x", "no user"),
    ],
)
def test_log_level_and_pg_user_are_checked_like_every_setting(
    name: str, value: str, words: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({**HTTP, name: value})
    assert len(raised.value.problems) == 1 and words in raised.value.problems[0]


def test_notes_visibility_is_workspace_by_default_own_on_request_else_an_error() -> None:
    assert load_settings(HTTP).notes_visibility == "workspace"
    assert load_settings({**HTTP, "NOTES_VISIBILITY": "OWN"}).notes_visibility == "own"
    with pytest.raises(SettingsError) as error:
        load_settings({**HTTP, "NOTES_VISIBILITY": "team"})
    assert any("NOTES_VISIBILITY is malformed" in p for p in error.value.problems)


def test_the_team_view_user_group_is_an_id_or_a_handle_else_an_error() -> None:
    assert load_settings(HTTP).team_view_usergroup is None
    for group in ("S0123ABCD", "@sales-managers", "sales.leads"):
        assert load_settings({**HTTP, "TEAM_VIEW_USERGROUP": group}).team_view_usergroup == group
    with pytest.raises(SettingsError) as error:
        load_settings({**HTTP, "TEAM_VIEW_USERGROUP": "Sales Managers"})
    assert any("TEAM_VIEW_USERGROUP is malformed" in p for p in error.value.problems)


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("SALESMEMORY_DB_URL", "postgresql://sales:hunter2@db:port/sm", "sales:***@db:port"),
        ("SALESMEMORY_DB_URL", "postgresql//sales:hunter2@db/sm", "***@db/sm"),
        ("HINDSIGHT_URL", "ftp://ops:hunter2@memory.example/", "ops:***@memory.example"),
        ("GROQ_BASE_URL", "groq.example/?token=hunter2", "token=***"),
        ("HINDSIGHT_DATABASE_URL", "mysql://hs:hunter2@db/hs", "hs:***@db/hs"),
    ],
)
def test_a_config_error_never_shows_a_password_in_a_url(name: str, value: str, shown: str) -> None:
    [line] = problems({**HTTP, name: value})
    assert line.startswith(name) and shown in line
    assert "hunter2" not in line


def test_a_masked_url_hides_a_password_holding_at_signs_and_slashes_but_keeps_the_rest() -> None:
    assert masked_url("postgresql://u:p@ss/hunter2@db:5432/sm") == "postgresql://u:***@db:5432/sm"
    assert masked_url("postgresql://u@db/sm") == "postgresql://u@db/sm"
    assert masked_url("http://127.0.0.1:8888") == "http://127.0.0.1:8888"
