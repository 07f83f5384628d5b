"""What the memory server keeps of erased documents beside the documents themselves, removed
in its own PostgreSQL: hindsight-api 1.1.0 has no endpoint for it.

Its API deletes a document with every fact and chunk extracted from it, and can delete one
finished operation record, but it has no way to delete an entity nor an LLM request trace, and
finding the operations about a document would mean paging through every operation of the bank.
So, for the embedded server only (the bot owns it and its database), this removes directly:

- operation records whose payload or result names an erased document (the payload is the
  note as sent), unless a worker is processing it right now;
- entities of the bank that no remaining memory unit mentions (a prospect's name outlives its
  notes otherwise), with their co-occurrences;
- the bank's LLM request traces (they hold notes as sent for extraction and cannot be tied to
  one document; the embedded server writes none, so these are only an older server's).
"""

from __future__ import annotations

import asyncio

_PURGE_OPERATIONS = """
DELETE FROM async_operations
WHERE bank_id = $1
  AND status <> 'processing'
  AND EXISTS (
    SELECT 1 FROM unnest($2::text[]) AS erased(document_id)
    WHERE strpos(
      coalesce(task_payload::text, '') || coalesce(result_metadata::text, ''),
      to_jsonb(erased.document_id)::text
    ) > 0
  )
"""
_PURGE_ENTITIES = """
DELETE FROM entities AS entity
WHERE entity.bank_id = $1
  AND NOT EXISTS (SELECT 1 FROM unit_entities AS mention WHERE mention.entity_id = entity.id)
"""
_PURGE_TRACES = "DELETE FROM llm_requests WHERE bank_id = $1"


class PurgeFailed(Exception):
    """The server's database could not be reached or refused the purge (nothing of the rows
    is in the message)."""


async def purge_residue(
    database_url: str, bank_id: str, document_ids: list[str], timeout: float
) -> None:
    """Remove what the server keeps of these erased documents (see the module's docstring),
    in one transaction bounded by `timeout` seconds."""
    import asyncpg  # hindsight-api's own dependency: here whenever the embedded server is

    async def purge() -> None:
        conn = await asyncpg.connect(database_url, timeout=timeout)
        try:
            async with conn.transaction():
                await conn.execute(_PURGE_OPERATIONS, bank_id, document_ids)
                await conn.execute(_PURGE_ENTITIES, bank_id)
                await conn.execute(_PURGE_TRACES, bank_id)
        finally:
            await conn.close(timeout=timeout)

    try:
        await asyncio.wait_for(purge(), timeout)
    except TimeoutError as exc:
        raise PurgeFailed(f"no answer within {timeout:.0f}s") from exc
    except OSError as exc:
        raise PurgeFailed(f"unreachable ({type(exc).__name__})") from exc
    except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        # Only the error's kind: PostgreSQL's own text may quote a row.
        raise PurgeFailed(f"refused ({type(exc).__name__})") from exc
