"""Notes stored as text only (chunks mode, before a Groq key was set) are read again by
memory's LLM once it has one: in the background, a few at a time, each only once (the local
index remembers, across restarts)."""

from __future__ import annotations

import asyncio
import logging

from bot.services import Services
from memory.store import MemoryUnavailable

logger = logging.getLogger(__name__)

REFILE_CONCURRENCY = 2  # memory's own queue does the extraction; this only hands notes over


async def refile_text_notes(services: Services, stop: asyncio.Event | None = None) -> int:
    """Hand every text-only note of every workspace back to memory to extract its facts;
    returns how many were handed over. Nothing to do when memory has no LLM."""
    if not await services.memory.reasons():
        return 0
    handed = 0
    for workspace in await services.index.workspaces():
        done = await services.index.refiled_documents(workspace)
        todo = [d for d in await services.memory.filed_as_text(workspace) if d not in done]
        for start in range(0, len(todo), REFILE_CONCURRENCY):
            if stop is not None and stop.is_set():
                return handed
            batch = todo[start : start + REFILE_CONCURRENCY]
            operations = await asyncio.gather(
                *(services.memory.refile(workspace, document) for document in batch)
            )
            for document, operation in zip(batch, operations, strict=True):
                await services.index.record_refiled(workspace, document, operation)
            handed += len(batch)
    if handed:
        logger.info("Handed %d note(s) stored as text back to memory to extract facts", handed)
    return handed


async def refile_in_background(services: Services, stop: asyncio.Event) -> None:
    """`refile_text_notes` at start-up; memory being down only postpones it to the next start."""
    try:
        await refile_text_notes(services, stop)
    except MemoryUnavailable as error:
        logger.warning("Re-filing notes stored as text waits for the next start: %s", error)
    except Exception:
        logger.exception("Re-filing notes stored as text failed; it resumes at the next start")
