import asyncio
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from memory.database import create_database_engine
from memory.index import TOLD_STORED, TOLD_WAITING, UNCONFIRMED, KeptDraft, LocalIndex
from memory.records import LlmUsage
from tests.unit.factories import CALL

LATER, EARLIER = date(2026, 10, 9), date(2026, 9, 1)
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalIndex]:
    """The same contract on both databases the index runs on: SQLite on one machine, and
    PostgreSQL (a fresh database of the session's real server) shared by replicas."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{tmp_path}/i.db"
    opened = LocalIndex.open(url)
    yield opened
    opened.close()


async def test_a_call_that_must_not_be_replaced_keeps_the_first_version(
    index: LocalIndex,
) -> None:
    assert await index.write_ahead(CALL, replace=False) is True
    other = replace(CALL, note="A different note about the same follow-up.")
    assert await index.write_ahead(other, replace=False) is False
    assert [c.note for c in await index.waiting()] == [CALL.note]
    assert await index.write_ahead(other) is True  # the default: a fixed note replaces
    assert [c.note for c in await index.waiting()] == [other.note]


async def test_write_ahead_is_true_once_then_false_for_the_same_call_id(index: LocalIndex) -> None:
    assert await index.write_ahead(CALL) is True
    assert await index.write_ahead(CALL) is False
    assert (await index.known_prospects("T1"))[0].interactions == 1
    assert await index.waiting() == [CALL]


async def test_known_prospects_count_calls_and_last_contact(index: LocalIndex) -> None:
    await index.write_ahead(CALL)
    await index.write_ahead(replace(CALL, call_id="v2", prospect="james OKAFOR", call_date=LATER))
    await index.write_ahead(replace(CALL, call_id="v3", prospect="Priya Sharma", call_date=EARLIER))
    known = await index.known_prospects("T1")
    assert [(p.name, p.interactions, p.last_contact) for p in known] == [
        ("James Okafor", 2, LATER),
        ("Priya Sharma", 1, EARLIER),
    ]


async def test_workspaces_are_separate(index: LocalIndex) -> None:
    await index.write_ahead(CALL)
    await index.write_ahead(replace(CALL, call_id="w1", workspace_id="T2", prospect="Priya Sharma"))
    assert [p.name for p in await index.known_prospects("T1")] == ["James Okafor"]
    assert [p.name for p in await index.known_prospects("T2")] == ["Priya Sharma"]
    assert await index.search_prospects("T2", "okafor") == []
    assert await index.waiting("T2", "priya-sharma") != []
    assert await index.waiting("T1", "priya-sharma") == []


async def test_a_delivered_call_leaves_no_text_and_reports_what_the_rep_was_told(
    index: LocalIndex,
) -> None:
    await index.write_ahead(CALL)
    assert await index.claim_confirmation("v1", TOLD_WAITING) == UNCONFIRMED
    assert await index.mark_delivered("v1") == TOLD_WAITING
    assert await index.waiting() == []
    assert await index.claim_confirmation("v1", TOLD_STORED) == TOLD_WAITING
    # Told once: nobody claims the same notice again.
    assert await index.claim_confirmation("v1", TOLD_STORED) is None
    assert await index.claim_confirmation("v1", TOLD_WAITING) is None


async def test_a_leased_call_is_not_claimed_twice_until_its_lease_ends(index: LocalIndex) -> None:
    await index.write_ahead(CALL)
    first = await index.claim_due(NOW + timedelta(seconds=90), NOW, 10)
    assert [c.call.call_id for c in first] == ["v1"]
    assert await index.claim_due(NOW + timedelta(seconds=90), NOW, 10) == []
    later = NOW + timedelta(seconds=91)
    assert [c.call.call_id for c in await index.claim_due(later, later, 10)] == ["v1"]


async def test_a_released_call_waits_for_its_retry_time_and_counts_attempts(
    index: LocalIndex,
) -> None:
    await index.write_ahead(CALL)
    await index.claim_due(NOW + timedelta(seconds=90), NOW, 10)
    await index.release("v1", NOW + timedelta(minutes=10), "Hindsight answered 422", True)
    assert await index.claim_due(NOW + timedelta(seconds=90), NOW, 10) == []
    due = NOW + timedelta(minutes=10)
    assert [(c.call.call_id, c.attempts) for c in await index.claim_due(due, due, 10)] == [
        ("v1", 1)
    ]


async def test_search_prospects_matches_a_slug_substring(index: LocalIndex) -> None:
    await index.write_ahead(CALL)
    await index.write_ahead(replace(CALL, call_id="v2", prospect="Priya Sharma"))
    assert await index.search_prospects("T1", "OKAF") == ["James Okafor"]
    assert await index.search_prospects("T1", "y") == ["Priya Sharma"]


async def test_an_erasure_takes_only_the_calls_there_when_confirmed(index: LocalIndex) -> None:
    kept = replace(CALL, call_id="v2", prospect="Priya Sharma")
    theirs = replace(CALL, call_id="v3", rep_id="U2")
    for call in (CALL, kept, theirs):
        await index.write_ahead(call)
    counts = await index.call_counts("T1", "james-okafor", CALL.rep_id)
    assert (counts.total, counts.mine, counts.waiting_mine) == (2, 1, 1)

    mine = await index.start_erasure("T1", "james-okafor", "James Okafor", "mine", "U1", NOW)
    assert mine.call_ids == (CALL.call_id,) and mine.waiting == 1
    assert await index.is_erased(CALL.call_id) and not await index.is_erased("v3")
    # The teammate's call keeps the prospect; a call logged afterwards is not taken.
    assert {p.slug for p in await index.known_prospects("T1")} == {"james-okafor", "priya-sharma"}
    assert await index.waiting("T1", "james-okafor") == [theirs]
    later = replace(CALL, call_id="v4")
    await index.write_ahead(later)

    every = await index.start_erasure("T1", "james-okafor", "James Okafor", "prospect", "U9", NOW)
    assert set(every.call_ids) == {"v3", "v4"}
    assert [p.slug for p in await index.known_prospects("T1")] == ["priya-sharma"]
    assert await index.waiting("T1") == [kept]
    [first, second] = sorted(await index.unfinished_erasures(), key=lambda e: e.notes)
    assert first.call_ids == (CALL.call_id,) and first.receipt_name == "James Okafor"
    assert await index.finish_erasure(first, 2, NOW) is True
    assert await index.finish_erasure(first, 2, NOW) is False  # the receipt goes once
    assert [e.request_id for e in await index.unfinished_erasures()] == [second.request_id]


async def test_a_digest_period_is_claimed_once_and_a_failed_one_again(index: LocalIndex) -> None:
    lease = timedelta(minutes=15)
    assert await index.claim_digest("T1", "U1", "2026-11-23", NOW, lease) == 1
    assert await index.claim_digest("T1", "U1", "2026-11-23", NOW, lease) is None
    await index.finish_digest("T1", "U1", "2026-11-23", sent=False, now=NOW)
    assert await index.claim_digest("T1", "U1", "2026-11-23", NOW, lease) == 2
    await index.finish_digest("T1", "U1", "2026-11-23", sent=True, now=NOW)
    assert await index.claim_digest("T1", "U1", "2026-11-23", NOW + lease * 9, lease) is None
    assert await index.digest_run_status("T1", "U1", "2026-11-23") == "sent"
    # A claim whose sender died is free again once its lease ends.
    assert await index.claim_digest("T1", "U1", "2026-11-30", NOW, lease) == 1
    assert await index.claim_digest("T1", "U1", "2026-11-30", NOW + lease * 2, lease) == 2


async def test_a_database_from_the_previous_version_keeps_its_kept_calls(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:
        old.executescript(
            """
            CREATE TABLE calls (call_id VARCHAR(128) PRIMARY KEY, workspace_id VARCHAR(32),
                slug VARCHAR(128), rep_id VARCHAR(32), call_date DATE, outcome VARCHAR(32));
            CREATE TABLE pending_calls (call_id VARCHAR(128) PRIMARY KEY,
                workspace_id VARCHAR(32), slug VARCHAR(128), payload TEXT, attempts INTEGER,
                kept_at DATETIME);
            """
        )
        old.execute(
            "INSERT INTO pending_calls VALUES (?, ?, ?, ?, 1, '2026-11-01 09:00:00')",
            ("v1", "T1", "james-okafor", CALL.to_json()),
        )
    upgraded = LocalIndex.open(f"sqlite:///{path}")
    try:
        assert await upgraded.waiting() == [CALL]
    finally:
        upgraded.close()


async def test_concurrent_first_calls_for_one_new_prospect_are_all_saved(index: LocalIndex) -> None:
    calls = [replace(CALL, call_id=f"c{n}", rep_id=f"U{n}") for n in range(8)]
    saved = await asyncio.gather(*(index.write_ahead(call) for call in calls))
    assert saved == [True] * 8
    assert (await index.known_prospects("T1"))[0].interactions == 8


async def test_concurrent_claims_of_one_digest_give_it_to_exactly_one(index: LocalIndex) -> None:
    lease = timedelta(minutes=15)
    claims = await asyncio.gather(
        *(index.claim_digest("T1", "U1", "2026-11-23", NOW, lease) for _ in range(8))
    )
    assert sorted(claims, key=str) == [1] + [None] * 7


async def test_a_waiting_call_submitted_again_with_other_text_is_replaced(
    index: LocalIndex,
) -> None:
    await index.write_ahead(CALL)
    fixed = replace(CALL, note="Agreed a three-week pilot.")
    assert await index.write_ahead(fixed) is True
    assert await index.waiting() == [fixed]
    assert (await index.known_prospects("T1"))[0].interactions == 1


async def test_a_save_past_its_deadline_raises_and_stores_nothing(index: LocalIndex) -> None:
    with pytest.raises(TimeoutError):
        await index.write_ahead(CALL, deadline=time.monotonic() - 1)
    assert await index.waiting() == []


async def test_on_postgresql_a_save_blocked_by_another_replica_gives_up_by_its_deadline(
    postgres_url: str,
) -> None:
    index = LocalIndex.open(postgres_url)
    other_replica = create_engine(postgres_url)
    try:
        with other_replica.connect() as conn:
            conn.execute(text("LOCK TABLE outbox IN EXCLUSIVE MODE"))  # held until rollback
            with pytest.raises(OperationalError, match="lock timeout"):
                await asyncio.wait_for(
                    index.write_ahead(CALL, deadline=time.monotonic() + 0.5), timeout=10
                )
            conn.rollback()
        # Told it failed, so it never lands later: nothing of it was kept.
        assert await index.waiting() == []
        assert await index.known_prospects("T1") == []
    finally:
        index.close()
        other_replica.dispose()


async def test_on_postgresql_replicas_opening_a_new_database_together_all_get_its_schema(
    postgres_url: str,
) -> None:
    opened = await asyncio.gather(
        *(asyncio.to_thread(LocalIndex.open, postgres_url) for _ in range(4))
    )
    try:
        claims = await asyncio.gather(
            *(i.claim_digest("T1", "U1", "2026-11-23", NOW, timedelta(minutes=15)) for i in opened)
        )
        assert sorted(claims, key=str) == [1, None, None, None]
    finally:
        for each in opened:
            each.close()


def usage(task: str, at: datetime, **fields: object) -> LlmUsage:
    values: dict[str, object] = {
        "workspace_id": "T1",
        "task": task,
        "model": "openai/gpt-oss-20b",
        "ok": True,
        "escalated": False,
        "reason": None,
        "requests": 1,
        "latency_ms": 100,
        "prompt_tokens": 1000,
        "completion_tokens": 200,
        "at": at,
    }
    values.update(fields)
    return LlmUsage(**values)  # type: ignore[arg-type]


async def test_the_models_usage_is_summed_per_task_for_the_week(index: LocalIndex) -> None:
    now = datetime(2026, 11, 20, 10, tzinfo=UTC)
    for row in [
        usage("brief", now),
        usage("brief", now - timedelta(days=2), escalated=True, latency_ms=300, reason="bad"),
        usage("brief", now - timedelta(days=3), ok=False, escalated=True, latency_ms=500),
        usage("digest", now, prompt_tokens=5000, completion_tokens=800),
        usage("brief", now - timedelta(days=8)),  # last week
        usage("brief", now, workspace_id="T2"),  # another workspace
    ]:
        await index.record_llm_usage(row)
    stats = await index.llm_usage_since("T1", now - timedelta(days=7))
    assert [(s.task, s.asked, s.escalated, s.failed, s.tokens) for s in stats] == [
        ("brief", 3, 2, 1, 3600),
        ("digest", 1, 0, 0, 5800),
    ]
    assert stats[0].mean_latency_ms == 300
    assert stats[0].escalated_share == pytest.approx(2 / 3)
    assert await index.llm_usage_since("T3", now - timedelta(days=7)) == []


async def test_usage_older_than_ninety_days_is_dropped(index: LocalIndex) -> None:
    now = datetime(2026, 11, 20, 10, tzinfo=UTC)
    await index.record_llm_usage(usage("brief", now - timedelta(days=91)))
    await index.record_llm_usage(usage("brief", now - timedelta(days=89)))
    await index.record_llm_usage(usage("digest", now))
    stats = await index.llm_usage_since("T1", now - timedelta(days=365))
    assert {(s.task, s.asked) for s in stats} == {("brief", 1), ("digest", 1)}


async def test_a_kept_draft_is_the_reps_own_for_two_weeks(index: LocalIndex) -> None:
    shown = datetime(2026, 11, 1, 9, tzinfo=UTC)
    draft = KeptDraft("a" * 32, "T1", "U1", "Mike Reynolds", "Sarah Chen", "Hi", "Body", shown)
    await index.keep_draft(draft)
    assert await index.kept_draft("T1", "U1", "a" * 32, shown + timedelta(days=13)) == draft
    assert await index.kept_draft("T1", "U2", "a" * 32, shown) is None
    assert await index.kept_draft("T2", "U1", "a" * 32, shown) is None
    assert await index.kept_draft("T1", "U1", "a" * 32, shown + timedelta(days=15)) is None


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_failed_statement_carries_no_bound_value_into_its_error(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    # The error is logged and raised: its text must not hold the note it was writing.
    url = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    engine = create_database_engine(url or f"sqlite:///{tmp_path}/e.db")
    try:
        with pytest.raises(DBAPIError) as failed, engine.begin() as conn:
            conn.execute(text("INSERT INTO no_such_table VALUES (:note)"), {"note": "Kestrel-9"})
    finally:
        engine.dispose()
    assert "no_such_table" in str(failed.value)
    assert "Kestrel-9" not in str(failed.value)


async def test_a_rep_who_is_no_admin_never_takes_a_teammates_call(index: LocalIndex) -> None:
    theirs = replace(CALL, call_id="v3", rep_id="U2")
    for call in (CALL, theirs):  # the teammate's call landed after the rep's check
        await index.write_ahead(call)
    erased = await index.start_erasure(
        "T1", "james-okafor", "James Okafor", "prospect", "U1", NOW, others_allowed=False
    )
    assert erased.call_ids == (CALL.call_id,)
    assert await index.waiting("T1", "james-okafor") == [theirs]
