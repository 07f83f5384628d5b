"""`python -m bot backup` / `restore` as an admin runs them, around a real `python -m bot` with
its own embedded memory server: calls logged, backed up live, home wiped, restored, shown."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
from pathlib import Path

from memory.embedded import free_port
from memory.index import LocalIndex
from tests.e2e.conftest import filled_log_view
from tests.e2e.test_entry_point import (
    bot_env,
    processes_under,
    run_bot_until_ready,
    spawn_bot,
    stop,
    wait_until_gone,
)
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SIGNING_SECRET, SlackSender

CALLS = [
    ("Priya Sharma", "2026-10-20", "Loved the ROI calculator and wants a pilot for two teams."),
    ("Priya Sharma", "2026-11-03", "Pilot agreed; data migration from HubSpot worries her."),
    ("James Okafor", "2026-11-02", "Asked for the security report before any pricing talk."),
]


async def run_cli(home: Path, slack: FakeSlack, *args: str) -> tuple[int, str, str]:
    """`python -m bot <args>` with the bot's own settings; (exit code, stdout, stderr)."""
    env = bot_env(
        home,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.api_url,
    )
    process = await spawn_bot(home, env, *args)
    out, err = await asyncio.wait_for(process.communicate(), timeout=300)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def log_calls(send: SlackSender, slack: FakeSlack) -> None:
    for n, (prospect, day, note) in enumerate(CALLS):
        await send.command("/log", prospect)
        view = (await slack.wait_for("views.open", n + 1))[-1]["view"]
        status, _ = await send.view_submission(
            filled_log_view(view, prospect, call_date=day, note=note), f"V{n}"
        )
        assert status == 200
    # Each rep hears once memory has the call: all three are in memory before the backup.
    await slack.wait_for("chat.postMessage", len(CALLS), timeout=120)


async def shown(send: SlackSender, slack: FakeSlack, command: str, text: str) -> str:
    before = len(slack.called("respond"))
    status, _ = await send.command(command, text)
    assert status == 200
    return json.dumps((await slack.wait_for("respond", before + 1, timeout=60))[-1]["blocks"])


def fingerprint(home: Path) -> dict[str, str]:
    """Every file of the home's databases and its memory server's secrets, by content."""
    data = home / "data"
    files = [data / "salesmemory.db", data / "hindsight" / "postgres-password"]
    files += sorted((data / "hindsight" / "pg" / "data").rglob("*"))
    return {
        str(f): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in files
        if f.is_file() and not f.name.startswith("postmaster")
    }


async def test_calls_survive_a_live_backup_a_wiped_home_and_a_restore(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    backup, cold_backup = tmp_path / "backup", tmp_path / "cold-backup"
    port = free_port()
    send = SlackSender(f"http://127.0.0.1:{port}/slack/events", fake_slack.response_url)

    process = await run_bot_until_ready(home, fake_slack, port)
    try:
        await log_calls(send, fake_slack)
        code, out, err = await run_cli(home, fake_slack, "backup", str(backup))
        assert code == 0, err
        assert out.startswith(f"backed up to {backup}: index.sqlite")
        assert "memory.pgdump" in out and "not included" not in out
        # The bot went on serving through the backup.
        assert "Pilot agreed" in await shown(send, fake_slack, "/timeline", "priya sharma")
    finally:
        assert await stop(process) == 0
    await wait_until_gone(home)
    manifest = json.loads((backup / "backup.json").read_text())
    assert manifest["bank_prefix"] == "salesmemory" and manifest["not_included"] == []
    assert set(manifest["files"]) == {"index.sqlite", "jobs.sqlite", "memory.pgdump"}

    # With the bot stopped, backup starts the memory server's PostgreSQL alone and stops it.
    code, out, err = await run_cli(home, fake_slack, "backup", str(cold_backup))
    assert code == 0, err
    assert (cold_backup / "memory.pgdump").stat().st_size > 0
    assert processes_under(home, "postgres") == []
    assert processes_under(home, "hindsight-api") == []

    shutil.rmtree(home / "data")
    code, out, err = await run_cli(home, fake_slack, "restore", str(backup))
    assert code == 0, err
    assert f"into {home / 'data'} from a backup made {manifest['created']}" in out
    assert processes_under(home, "postgres") == []

    # A second restore over the restored home is refused and changes nothing.
    before = fingerprint(home)
    assert len(before) > 100  # the database's files were there to compare
    code, out, err = await run_cli(home, fake_slack, "restore", str(cold_backup))
    assert code == 1 and out == ""
    assert err.startswith(f"restore error: {home / 'data'} already holds data")
    assert "nothing was changed" in err
    assert fingerprint(home) == before

    fake_slack.calls.clear()
    process = await run_bot_until_ready(home, fake_slack, port)
    try:
        timeline = await shown(send, fake_slack, "/timeline", "priya sharma")
        assert CALLS[0][2] in timeline and "HubSpot" in timeline
        brief = await shown(send, fake_slack, "/brief", "Priya Sharma")
        assert "Memory-only brief" in brief  # no Groq key here: what memory holds, verbatim
        assert "ROI calculator" in brief and "HubSpot" in brief
        assert "security report" in await shown(send, fake_slack, "/brief", "james okafor")
    finally:
        assert await stop(process) == 0
    await wait_until_gone(home)


async def test_a_folder_that_is_not_a_backup_is_refused_and_the_home_stays_empty(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    not_a_backup = tmp_path / "photos"
    not_a_backup.mkdir()
    (not_a_backup / "holiday.jpg").write_bytes(b"\xff\xd8")
    code, out, err = await run_cli(tmp_path, fake_slack, "restore", str(not_a_backup))
    assert code == 1 and out == ""
    assert err.strip() == (
        f"restore error: {not_a_backup} is not a SalesMemory backup (no readable backup.json)."
    )
    assert not (tmp_path / "data").exists()

    # A backup whose memory dump went missing is named as incomplete, before anything is done.
    (not_a_backup / "backup.json").write_text(
        json.dumps(
            {
                "version": "0.1.0",
                "created": "2026-11-20T10:00:00+00:00",
                "bank_prefix": "salesmemory",
                "files": ["memory.pgdump"],
            }
        )
    )
    code, _, err = await run_cli(tmp_path, fake_slack, "restore", str(not_a_backup))
    assert code == 1
    assert "is incomplete: memory.pgdump listed but not there" in err
    assert not (tmp_path / "data").exists()


async def test_a_backup_names_what_lives_on_an_external_memory_server(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    (tmp_path / "data").mkdir()
    LocalIndex.open(f"sqlite:///{tmp_path / 'data' / 'salesmemory.db'}").close()
    target = tmp_path / "backup"
    env_file = tmp_path / ".env"
    env_file.write_text("HINDSIGHT_URL=http://memory.example:8888\n")
    code, out, err = await run_cli(tmp_path, fake_slack, "backup", str(target))
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0] == f"backed up to {target}: index.sqlite"
    assert lines[1] == (
        "not included: memory at http://memory.example:8888 (HINDSIGHT_URL): back up that "
        "Hindsight server's database with its own tools"
    )
    assert json.loads((target / "backup.json").read_text())["files"] == ["index.sqlite"]

    # An earlier backup is never overwritten.
    code, out, err = await run_cli(tmp_path, fake_slack, "backup", str(target))
    assert code == 1 and out == ""
    assert (
        err.strip()
        == f"backup error: {target} is not an empty folder: give a new one for the backup."
    )

    # Restored where memory would be embedded, the index would list calls held nowhere.
    other = tmp_path / "other"
    other.mkdir()
    code, _, err = await run_cli(other, fake_slack, "restore", str(target))
    assert code == 1
    assert "the backup holds no memory (it was made with HINDSIGHT_URL set)" in err
    assert not (other / "data").exists()


async def test_another_users_home_is_left_alone(tmp_path: Path, fake_slack: FakeSlack) -> None:
    home = tmp_path / "data"
    home.mkdir()
    LocalIndex.open(f"sqlite:///{home / 'salesmemory.db'}").close()
    os.chown(home, 65534, 65534)  # the bot's service user, say; this test runs as another
    before = sorted(p.name for p in home.iterdir())

    code, out, err = await run_cli(tmp_path, fake_slack, "backup", str(tmp_path / "b"))

    assert code == 1 and out == ""
    assert err.strip() == (
        f"backup error: {home} belongs to user id 65534, not to you ({os.geteuid()}): run "
        "this as the user the bot runs as."
    )
    assert not (tmp_path / "b").exists()
    assert sorted(p.name for p in home.iterdir()) == before
