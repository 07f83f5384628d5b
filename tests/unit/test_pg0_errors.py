"""What pg0 prints when it fails reaches an error message without any password in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from memory.embedded_postgres import EmbeddedMemoryError, PgRunner, redacted


def test_a_failing_pg0s_output_is_shown_without_its_passwords(tmp_path: Path) -> None:
    fake = tmp_path / "pg0"
    fake.write_text(
        "#!/bin/sh\n"
        "echo 'connect postgresql://hindsight:Zk9pw@127.0.0.1:5432/hindsight failed' >&2\n"
        "echo 'role check with Qx7start rejected' >&2\n"
        "exit 3\n"
    )
    fake.chmod(0o755)
    runner = PgRunner(home=tmp_path, binary=fake, prefix=[])
    with pytest.raises(EmbeddedMemoryError) as failed:
        runner.run("start", secrets=("Qx7start",))
    said = str(failed.value)
    assert "failed (3)" in said and "postgresql://hindsight:***@127.0.0.1:5432" in said
    assert "Zk9pw" not in said and "Qx7start" not in said and "role check with ***" in said


def test_a_uri_password_with_an_at_sign_is_hidden_whole() -> None:
    assert redacted("postgres://u:p@ss@h:1/d") == "postgres://u:***@h:1/d"
