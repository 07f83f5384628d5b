"""What erasure shows: every name escaped once, counts and scope said plainly."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from bot.forget import view
from bot.forget.erase import ForgetPlan
from memory.index import Erasure, LocalIndex

HOSTILE = "<https://evil.example|Nadia Rahman> <!channel>"
ESCAPED = "&lt;https://evil.example|Nadia Rahman&gt; &lt;!channel&gt;"
NOW = datetime(2026, 11, 20, 10, tzinfo=UTC)


def test_every_forget_reply_escapes_the_names_it_shows() -> None:
    plan = ForgetPlan("x", HOSTILE, "mine", 1, 0, teammates=3)
    erasure = Erasure("r1", "T1", "U1", NOW, "prospect", HOSTILE, 2, 0)
    shown = [
        view.unknown_prospect([HOSTILE, "Omar"]),
        view.not_yours(HOSTILE),
        view.changed_meanwhile(HOSTILE),
        json.dumps(view.forget_offer(plan)[1][0]),  # the button's value is never shown
        json.dumps(view.build_forget_modal(plan)["blocks"]),
        view.memory_later(HOSTILE),
        view.receipt(erasure, 2, NOW),
        view.memory_refused(erasure),
    ]
    for said in shown:
        assert "<https://evil" not in said and "<!channel>" not in said
        assert ESCAPED in said.replace("\\u0026", "&")


def test_the_confirmation_says_what_stays_when_only_the_reps_calls_go() -> None:
    modal = view.build_forget_modal(ForgetPlan("n", "Nadia", "mine", 1, 1, teammates=3))
    said = json.dumps(modal["blocks"])
    assert "the 1 call you logged" in said and "(1 not yet in memory)" in said
    assert "The 3 calls teammates logged stay" in said
    assert json.loads(modal["private_metadata"]) == {"name": "Nadia", "scope": "mine"}


def test_a_late_receipt_says_memory_was_away() -> None:
    erasure = Erasure("r1", "T1", "U1", NOW, "mine", "Nadia", 1, 0)
    said = view.receipt(erasure, 0, NOW + timedelta(minutes=5))
    assert "your calls with *Nadia* are forgotten" in said
    assert "Memory was unreachable when you asked" in said and "confirmation" not in said


def test_an_unfinished_forget_of_an_older_version_becomes_an_erasure_without_names(
    tmp_path: object,
) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    LocalIndex.open(url).close()
    old = LocalIndex.open(url)
    with old._engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE forgets (workspace_id VARCHAR(32), slug VARCHAR(128), "
                "name VARCHAR(200), requested_by VARCHAR(32), requested_at DATETIME, "
                "notes INTEGER, waiting INTEGER, documents INTEGER, finished_at DATETIME)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO forgets VALUES ('T1', 'nadia-rahman', 'Nadia Rahman', 'U1', "
                "'2026-11-20 10:00:00', 2, 0, NULL, NULL), ('T1', 'omar', 'Omar', 'U1', "
                "'2026-11-19 10:00:00', 1, 0, 1, '2026-11-19 10:01:00')"
            )
        )
    old.close()
    upgraded = LocalIndex.open(url)
    try:
        with upgraded._engine.connect() as conn:
            tables = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master"))}
        assert "forgets" not in tables  # the names went with it
        [moved] = upgraded.unfinished_erasures.__wrapped__(upgraded)  # type: ignore[attr-defined]
        assert (moved.legacy_slug, moved.receipt_name, moved.notes) == (
            "nadia-rahman",
            "Nadia Rahman",
            2,
        )
    finally:
        upgraded.close()
