"""SQL on the embedded server's own PostgreSQL, for the scale benchmark only: grow a filled
bank by copying its rows, and count which index served the recalls.

Growing is not filling: a copy has no document, chunk, link or entity rows of its own (it points
at the original's), and its embedding is the original's with a little noise. What it reproduces
is what decides whether a tag-filtered recall is complete: the number of rows the vector index
and the tag index hold, and the planner's statistics. The fill figures come from the real fill.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg

from memory.embedded import EmbeddedHindsight
from memory.embedded_postgres import pg_runner

# Every column of a memory unit but its id (a new one per copy). Tags other than `type:…`
# get the copy's suffix, so each copy is a new set of prospects and reps.
_COLUMNS = (
    "bank_id, document_id, text, embedding, context, event_date, occurred_start, occurred_end, "
    "mentioned_at, fact_type, metadata, chunk_id, tags, proof_count, consolidated_at, "
    "observation_scopes, text_signals, search_vector"
)
_COPY = f"""
INSERT INTO memory_units ({_COLUMNS})
SELECT bank_id, document_id, text,
       (SELECT array_agg(x + (random() - 0.5) * 0.01 ORDER BY i)
          FROM unnest(embedding::real[]) WITH ORDINALITY AS e(x, i))::vector,
       context, event_date, occurred_start, occurred_end, mentioned_at, fact_type, metadata,
       chunk_id,
       ARRAY(SELECT CASE WHEN t LIKE 'type:%' THEN t ELSE t || $2 END FROM unnest(tags) AS t)
           ::varchar[],
       proof_count, consolidated_at, observation_scopes, text_signals, search_vector
  FROM memory_units
 WHERE bank_id = $1
   AND NOT EXISTS (SELECT 1 FROM unnest(tags) AS t WHERE t ~ '-c[0-9]+$')
"""


def database_url(server: EmbeddedHindsight) -> str:
    info = pg_runner(server.home / "pg", server.pg_user).info()
    return str(info["uri"])


async def grow_bank(url: str, bank: str, copies: int) -> float:
    """Add `copies` copies of every original row of `bank` (copy k tagged `-c<k>`), then
    ANALYZE as autovacuum would; returns seconds taken."""
    started = time.perf_counter()
    conn = await asyncpg.connect(url)
    try:
        for k in range(1, copies + 1):
            await conn.execute(_COPY, bank, f"-c{k}")
            print(f"  copy {k}/{copies} done at {time.perf_counter() - started:6.0f} s", flush=True)
        await conn.execute("ANALYZE memory_units")
    finally:
        await conn.close()
    return time.perf_counter() - started


async def index_scans(url: str, bank: str) -> dict[str, int]:
    """How many scans the tag index and the bank's vector indexes have served so far."""
    # A backend flushes its counters to the shared ones within 10 s of going idle: wait that
    # long, or the last retains' link probes (one vector index scan per note) count as recalls'.
    await asyncio.sleep(11)
    conn = await asyncpg.connect(url)
    try:
        rows: list[Any] = await conn.fetch(
            """
            SELECT s.indexrelname AS name, s.idx_scan AS scans, i.indexdef AS definition
              FROM pg_stat_user_indexes s JOIN pg_indexes i ON i.indexname = s.indexrelname
             WHERE s.relname = 'memory_units'
            """
        )
    finally:
        await conn.close()
    quoted = f"'{bank}'"
    return {
        "tags": sum(r["scans"] for r in rows if r["name"] == "idx_memory_units_tags"),
        "vector": sum(
            r["scans"]
            for r in rows
            if "USING hnsw" in r["definition"] and quoted in r["definition"]
        ),
    }
