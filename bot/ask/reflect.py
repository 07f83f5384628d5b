"""Asking memory's own model: with an LLM in memory, Hindsight's reflect reads the notes the
scope's tags allow and answers in the shape of ask_schema.json, citing the memories it used.

What comes back is made into what the engine checks either way: the memories reflect stood on
become numbered sources ("n1", "n2" …) of prospects in scope and calls in the period, and the
answer's memory ids become those numbers. An id that was not among them (made up, or of a
memory out of scope) is kept unknown, so the sentence citing it is dropped like any other.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Sequence
from datetime import date
from typing import Any

from bot.ask.answer import AskAnswer, Source, Turn, checked_sentences, framing
from bot.ask.scope import Scope
from bot.services import Services
from memory.records import OUTCOMES, LlmUsage
from memory.store_errors import MemoryUnavailable
from memory.store_reflect import Reflection
from prompts import load_schema, load_text

logger = logging.getLogger(__name__)

RULES = "ask_reflect.md"
# Stats show reflect's asks apart from those answered over recalled notes (task "ask"), so a
# question that falls back is not counted twice as one task.
TASK = "ask_reflect"
MEMORY_MODEL = "memory-reflect"
SCHEMA = "ask_schema.json"
# A rep is waiting: past this, reflect is given up and the question asked the recall way,
# which answers in about the time of a brief.
REFLECT_SECONDS = 30.0
# Ids the answer text may still carry inline: a memory's UUID, in brackets or not, and what
# memory puts in place of one its model was never shown.
_INLINE_ID = re.compile(
    r"\[?\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b\]?|\[unverified id\]",
    re.IGNORECASE,
)
_EMPTY_BRACKETS = re.compile(r"\[[\s,;]*\]")
_SPACE_BEFORE_STOP = re.compile(r"\s+([.,;:!?])")
_UNKNOWN = "unknown:"  # what an id not among the sources becomes: never a source's ref


def reflect_query(question: str, scope: Scope, today: date, earlier: Sequence[Turn]) -> str:
    """What reflect is asked: the rules of a cited answer, what was searched and when, the
    conversation so far and the question."""
    searched, asked = framing(question, scope, today, earlier)
    return (
        f"{load_text(RULES)}\n{searched}\n\n{asked}\n\n"
        "Answer it from the memories, citing their ids in the text as the rules say."
    )


def reflected_sources(reflection: Reflection, scope: Scope) -> tuple[list[Source], dict[str, str]]:
    """The memories reflect used that are about a prospect in scope, of a call in the period
    (and under `own`, typed by the rep), numbered; and memory id -> ref."""
    in_scope = {p.slug: p for p in (scope.named or scope.pipeline)}
    sources: list[Source] = []
    refs: dict[str, str] = {}
    for memory in reflection.memories:
        prospect = in_scope.get(memory.slug)
        if prospect is None or memory.id in refs:
            continue
        if scope.period is not None and not scope.period.holds(memory.call_date):
            continue
        if scope.seen_by is not None and memory.metadata.get("rep") != scope.seen_by:
            continue
        ref = f"n{len(sources) + 1}"
        refs[memory.id] = ref
        outcome = OUTCOMES.get(memory.metadata.get("outcome", ""), "")
        sources.append(
            Source(
                ref,
                memory.document_id or "",
                prospect.slug,
                prospect.name,
                prospect.company,
                memory.call_date,
                outcome,
                memory.text,
            )
        )
    return sources, refs


def _ids(item: dict[str, Any]) -> list[str]:
    """The memory ids a sentence cites: its note_ids, and any its text still carries."""
    listed = item.get("note_ids")
    given = [str(i).strip() for i in listed] if isinstance(listed, list) else []
    inline = [m.strip("[]").lower() for m in _INLINE_ID.findall(str(item.get("text", "")))]
    return list(dict.fromkeys(i for i in [*given, *inline] if i))


def cited_answer(answer: dict[str, Any], refs: dict[str, str]) -> dict[str, Any]:
    """`answer` (ask_schema's shape, citing memory ids) citing the sources' refs instead; an id
    not among them stays unknown, so the sentence citing it does not stand."""
    sentences = []
    items = answer.get("sentences")
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        text = _EMPTY_BRACKETS.sub("", _INLINE_ID.sub("", str(item.get("text", ""))))
        cited = [refs.get(i) or refs.get(i.lower()) or f"{_UNKNOWN}{i}" for i in _ids(item)]
        text = _SPACE_BEFORE_STOP.sub(r"\1", " ".join(text.split()))
        sentences.append({"text": text, "note_ids": cited})
    return {"sentences": sentences, "answer_found": bool(answer.get("answer_found", sentences))}


async def reflected_answer(
    services: Services,
    workspace_id: str,
    scope: Scope,
    question: str,
    today: date,
    earlier: Sequence[Turn],
) -> AskAnswer | None:
    """The checked answer reflect gives, or None when it gave nothing usable (it failed, its
    answer did not parse, it used no memory in scope, it found no answer, or no sentence of it
    held up): then the caller asks the recall way. Its cost is recorded as its own task."""
    started = time.monotonic()
    query = reflect_query(question, scope, today, earlier)
    slugs = [p.slug for p in scope.named]
    try:
        reflection = await asyncio.wait_for(
            services.memory.reflect_notes(
                workspace_id, query, load_schema(SCHEMA), slugs, scope.seen_by
            ),
            REFLECT_SECONDS,
        )
    except TimeoutError:
        logger.warning("Reflect took over %.0f s; asking over recalled notes", REFLECT_SECONDS)
        await _record(services, workspace_id, started, "reflect timed out")
        return None
    except MemoryUnavailable as failure:
        # Memory's model may fail while its recall still works; if memory itself is down,
        # the recall that follows says so.
        logger.warning("Reflect failed (%s); asking over recalled notes", failure)
        await _record(services, workspace_id, started, "reflect failed")
        return None
    answer, why_not = _checked(question, scope, reflection)
    await _record(services, workspace_id, started, why_not, reflection)
    if why_not is not None:
        logger.info("Reflect's answer not used (%s); asking over recalled notes", why_not)
    return answer


def _checked(
    question: str, scope: Scope, reflection: Reflection
) -> tuple[AskAnswer | None, str | None]:
    """Reflect's answer checked against the memories it used, or why it is not usable."""
    if not isinstance(reflection.answer, dict):
        # Memory's error may quote its model's answer: at DEBUG only, never in the usage row.
        logger.debug("Reflect gave no structured answer: %s", reflection.error)
        return None, "no structured answer"
    sources, refs = reflected_sources(reflection, scope)
    if not sources:
        return None, "no memory in scope"
    kept, dropped = checked_sentences(cited_answer(reflection.answer, refs), sources)
    if dropped and not kept:
        return None, "no sentence held up against the memories it cited"
    if not kept:
        # Reflect searched its own way and found nothing: the notes recall finds get a look
        # before the rep is told memory holds nothing.
        return None, "reflect gave no answer"
    return AskAnswer(question, scope, kept, sources, dropped), None


async def _record(
    services: Services,
    workspace_id: str,
    started: float,
    reason: str | None,
    reflection: Reflection | None = None,
) -> None:
    if services.llm is None:
        return
    usage = LlmUsage(
        workspace_id=workspace_id,
        task=TASK,
        model=MEMORY_MODEL,
        ok=reason is None,
        escalated=False,
        reason=reason,
        requests=1,
        latency_ms=round((time.monotonic() - started) * 1000),
        prompt_tokens=reflection.input_tokens if reflection else 0,
        completion_tokens=reflection.output_tokens if reflection else 0,
    )
    await services.llm.record_usage(usage)
