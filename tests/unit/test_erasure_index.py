"""The local index's part of erasure at its edges: files of older versions, a write-ahead log a
reader holds, an erased call's id submitted again, large and concurrent erasures, drafts."""

import asyncio
import logging
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from memory.index import CallErased, KeptDraft, LocalIndex, PostedMessage
from memory.index_tables import calls, confirmations
from memory.index_upgrade import COMPACTED_VERSION
from tests.unit.factories import CALL

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
FREED = b"ZQX-FREED-PAGE"  # in rows an older version deleted without secure_delete
FORGOTTEN = "Zora Quillfeather"  # a prospect an older version's forgets table named


@pytest.fixture(params=["sqlite", "postgresql"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalIndex]:
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{tmp_path}/i.db"
    opened = LocalIndex.open(url)
    yield opened
    opened.close()


def file_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def wal_size(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return wal.stat().st_size if wal.exists() else 0


def older_database(path: Path) -> None:
    """A file as an older version left it: deleted rows' bytes in free pages (secure_delete
    off), and a finished forget that names its prospect."""
    old = sqlite3.connect(path)
    old.execute("PRAGMA secure_delete=OFF")
    old.executescript(
        """
        CREATE TABLE calls (call_id VARCHAR(128) PRIMARY KEY, workspace_id VARCHAR(32),
            slug VARCHAR(128), rep_id VARCHAR(32), call_date DATE, outcome VARCHAR(32));
        CREATE TABLE pending_calls (call_id VARCHAR(128) PRIMARY KEY,
            workspace_id VARCHAR(32), slug VARCHAR(128), payload TEXT, attempts INTEGER,
            kept_at DATETIME);
        CREATE TABLE forgets (workspace_id VARCHAR(32), slug VARCHAR(128),
            name VARCHAR(200), requested_by VARCHAR(32), requested_at DATETIME,
            notes INTEGER, waiting INTEGER, documents INTEGER, finished_at DATETIME);
        """
    )
    payload = f"Agreed terms. {FREED.decode()} " * 20
    old.executemany(
        "INSERT INTO pending_calls VALUES (?, 'T1', 'zora', ?, 0, '2026-11-01 09:00:00')",
        [(f"v{n}", payload) for n in range(2000)],
    )
    old.execute(
        "INSERT INTO forgets VALUES ('T1', 'zora-quillfeather', ?, 'U1', "
        "'2026-11-19 10:00:00', 1, 0, 1, '2026-11-19 10:01:00')",
        (FORGOTTEN,),
    )
    old.commit()
    old.execute("DELETE FROM pending_calls")  # delivered, back then
    old.commit()
    old.close()


async def test_an_older_database_keeps_no_byte_of_what_it_deleted_once_opened(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    older_database(path)
    before = file_bytes(path)
    assert FREED in before and FORGOTTEN.encode() in before  # the test can see them

    upgraded = LocalIndex.open(f"sqlite:///{path}")
    try:
        stored = file_bytes(path)
        assert FREED not in stored and FORGOTTEN.encode() not in stored
        with sqlite3.connect(path) as check:
            assert check.execute("PRAGMA user_version").fetchone() == (COMPACTED_VERSION,)
        assert await upgraded.waiting() == []
    finally:
        upgraded.close()


async def held_by_reader(tmp_path: Path) -> tuple[LocalIndex, sqlite3.Connection, Path]:
    """An index whose write-ahead log holds an erasure's pages while a reader is in it."""
    path = tmp_path / "i.db"
    index = LocalIndex.open(f"sqlite:///{path}")
    await index.write_ahead(CALL)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM calls").fetchall()
    await index.start_erasure("T1", "james-okafor", "James Okafor", "mine", "U1", NOW)
    assert wal_size(path) > 0
    return index, reader, path


async def test_a_scrub_waits_for_a_reader_to_finish_then_empties_the_log(tmp_path: Path) -> None:
    index, reader, path = await held_by_reader(tmp_path)
    try:
        asyncio.get_running_loop().call_later(0.4, reader.execute, "COMMIT")
        started = time.monotonic()
        assert await index.scrub_files(within=5.0) is True
        assert 0.3 < time.monotonic() - started < 5.0  # it waited for the reader, no longer
        assert wal_size(path) == 0
    finally:
        reader.close()
        index.close()


async def test_a_scrub_a_reader_never_lets_go_of_gives_up_in_time_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    index, reader, path = await held_by_reader(tmp_path)
    try:
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="memory.database"):
            assert await index.scrub_files(within=0.5) is False
        assert time.monotonic() - started < 2.0
        [warned] = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert "write-ahead log" in warned.getMessage()
        assert "James" not in warned.getMessage() and CALL.note not in warned.getMessage()
        assert wal_size(path) > 0 and index.scrub_due  # the resuming loop tries again
        reader.execute("COMMIT")
        assert await index.scrub_files() is True  # the next scrub gets it
        assert wal_size(path) == 0 and not index.scrub_due
    finally:
        reader.close()
        index.close()


async def test_a_call_submitted_again_under_an_erased_calls_id_is_not_kept(
    index: LocalIndex,
) -> None:
    await index.write_ahead(CALL)
    await index.start_erasure("T1", "james-okafor", "James Okafor", "mine", "U1", NOW)
    for again in (CALL, replace(CALL, note="Retried with other text.")):
        with pytest.raises(CallErased):
            await index.write_ahead(again)
        with pytest.raises(CallErased):
            await index.write_ahead(again, replace=False)
    assert await index.waiting() == []
    assert await index.known_prospects("T1") == []
    assert not await index.call_logged(CALL.call_id)
    # Another call on the prospect is kept as usual.
    assert await index.write_ahead(replace(CALL, call_id="v2")) is True


async def test_an_erasure_of_1200_calls_finds_and_clears_every_confirmation(
    index: LocalIndex,
) -> None:
    ids = [f"c{n:04d}" for n in range(1200)]
    with index._engine.begin() as conn:
        conn.execute(
            calls.insert(),
            [
                {
                    "call_id": c,
                    "workspace_id": "T1",
                    "slug": "james-okafor",
                    "rep_id": "U1",
                    "call_date": date(2026, 10, 1),
                    "outcome": "pilot_agreed",
                    "confirmed": 2,
                }
                for c in ids
            ],
        )
        conn.execute(
            confirmations.insert(), [{"call_id": c, "ts": f"1.{c}", "channel": "DU1"} for c in ids]
        )
    erasure = await index.start_erasure("T1", "james-okafor", "James Okafor", "mine", "U1", NOW)
    assert sorted(erasure.call_ids) == ids
    found = await index.confirmations_of(erasure.call_ids)
    assert sorted(found, key=lambda m: m.ts) == [PostedMessage("DU1", f"1.{c}") for c in ids]
    assert await index.finish_erasure(erasure, 1200, NOW) is True
    assert await index.confirmations_of(erasure.call_ids) == []


async def test_on_postgresql_concurrent_erasures_of_one_prospect_take_each_call_once(
    postgres_url: str,
) -> None:
    replicas = [LocalIndex.open(postgres_url) for _ in range(2)]
    failed: list[Any] = []
    for replica in replicas:
        event.listen(replica._engine, "handle_error", failed.append)
    try:
        for round_ in range(4):
            prospect = f"Prospect {round_}"
            logged = [
                replace(CALL, call_id=f"r{round_}c{n}", prospect=prospect, rep_id=f"U{n % 3}")
                for n in range(60)
            ]
            for call in logged:
                await replicas[0].write_ahead(call)
            first, second = await asyncio.gather(
                *(
                    r.start_erasure("T1", logged[0].slug, prospect, "prospect", "U9", NOW)
                    for r in replicas
                )
            )
            assert not set(first.call_ids) & set(second.call_ids)
            assert sorted(first.call_ids + second.call_ids) == sorted(c.call_id for c in logged)
            assert first.notes + second.notes == 60
        assert failed == []  # neither ran into the other (no duplicate row, no deadlock)
    finally:
        for replica in replicas:
            replica.close()


async def test_any_erasure_drops_every_draft_of_the_prospect(index: LocalIndex) -> None:
    theirs = replace(CALL, call_id="v2", rep_id="U2")
    for call in (CALL, theirs):
        await index.write_ahead(call)
    shown = NOW - timedelta(days=1)

    def draft(mark: str, rep: str, prospect: str) -> KeptDraft:
        return KeptDraft(mark * 32, "T1", rep, prospect, "R", "Hi", "Body", shown)

    mine, teammates, other = (
        draft("a", "U1", "James Okafor"),
        draft("b", "U2", "james  okafor"),
        draft("c", "U2", "Priya Sharma"),
    )
    for each in (mine, teammates, other):
        await index.keep_draft(each)
    await index.snooze("T1", "U2", "james-okafor", date(2026, 12, 1))

    # Only the rep's own calls go, but the teammate's draft was written from them too.
    await index.start_erasure("T1", "james-okafor", "James Okafor", "mine", "U1", NOW)
    assert await index.kept_draft("T1", "U1", mine.draft_id, NOW) is None
    assert await index.kept_draft("T1", "U2", teammates.draft_id, NOW) is None
    assert await index.kept_draft("T1", "U2", other.draft_id, NOW) == other
    assert await index.snoozed("T1", "U2", NOW.date()) == {"james-okafor": date(2026, 12, 1)}
    assert await index.waiting("T1", "james-okafor") == [theirs]
