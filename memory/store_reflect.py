"""Reflect: memory's own model answers a question over the notes a set of tags allows, in a
given JSON shape, and says which memories it stood on.

The tags decide what the model may read, never the question: the prospects named (any of
them), under NOTES_VISIBILITY=own only the rep's own notes, and never a transcript.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from memory.records import CALL_LOG_TYPE, TRANSCRIPT_TYPE, prospect_tag, rep_tag, type_tag
from memory.store_base import GONE, MemoryBase, parse_date

# Facts extracted from notes. Observations are consolidated per prospect across every rep's
# notes and carry only the prospect's tag: left out wherever a rep's tag or the note type
# must match.
_FACTS_ONLY = ["world", "experience"]


@dataclass(frozen=True)
class ReflectedMemory:
    """A memory reflect stood on, with the call it came from."""

    id: str
    text: str
    kind: str  # world, experience, observation
    document_id: str | None
    call_date: date | None
    slug: str  # the prospect it is about ("" when neither its metadata nor tags say)
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reflection:
    """What reflect answered: `answer` in the schema asked for (None when the model gave
    nothing that parses), its prose, and the memories it said it used."""

    answer: dict[str, Any] | None
    text: str
    memories: list[ReflectedMemory]
    error: str | None = None  # why there is no structured answer, as the server said
    input_tokens: int = 0
    output_tokens: int = 0


_NOTHING = Reflection(None, "", [], "no memory bank yet")


def _slug(tags: Sequence[str], metadata: dict[str, str]) -> str:
    prefix = prospect_tag("")
    tagged = (t.removeprefix(prefix) for t in tags if t.startswith(prefix))
    return metadata.get("prospect_slug") or next(tagged, "")


def reflect_filter(slugs: Sequence[str], rep_id: str | None) -> dict[str, Any]:
    """The tag arguments of a reflect over the notes of `slugs` (every prospect when empty),
    only `rep_id`'s own when given: tag_groups (AND-ed; the server takes them or plain tags,
    not both) and fact_types."""
    notes = {"tags": [type_tag(CALL_LOG_TYPE)], "match": "all_strict"}
    own = [{"tags": [rep_tag(rep_id)], "match": "all_strict"}] if rep_id is not None else []
    if not slugs:
        return {"tag_groups": [*own, notes], "fact_types": _FACTS_ONLY}
    prospects = {"tags": [prospect_tag(s) for s in slugs], "match": "any_strict"}
    if own:
        return {"tag_groups": [prospects, *own, notes], "fact_types": _FACTS_ONLY}
    # Shared notes: a prospect's observations (tagged with the prospect alone) may be read;
    # a transcript may not.
    no_transcript = {"not": {"tags": [type_tag(TRANSCRIPT_TYPE)], "match": "any_strict"}}
    return {"tag_groups": [prospects, no_transcript], "fact_types": None}


class ReflectMemory(MemoryBase):
    async def reflect_notes(
        self,
        workspace_id: str,
        query: str,
        response_schema: dict[str, Any],
        slugs: Sequence[str] = (),
        rep_id: str | None = None,
        budget: str = "low",
    ) -> Reflection:
        """Memory's model answers `query` from the notes of `slugs` (every prospect when
        empty; with `rep_id` only that rep's notes) as `response_schema` describes. Raises
        `MemoryUnavailable` when memory cannot be asked."""
        # Reflect runs a model loop, like retain's extraction: the client with the longer
        # timeout.
        response = await self._call(
            "reflect",
            lambda: self._retain_client.areflect(
                bank_id=self.bank_id(workspace_id),
                query=query,
                budget=budget,
                response_schema=response_schema,
                include_facts=True,
                exclude_mental_models=True,
                **reflect_filter(slugs, rep_id),
            ),
            missing=GONE,
        )
        if response is GONE:
            return _NOTHING
        based_on = response.based_on.memories if response.based_on else None
        memories = [
            ReflectedMemory(
                id=fact.id,
                text=fact.text,
                kind=fact.type or "",
                document_id=fact.document_id,
                call_date=parse_date((fact.metadata or {}).get("date")),
                slug=_slug(fact.tags or (), dict(fact.metadata or {})),
                metadata=dict(fact.metadata or {}),
            )
            for fact in based_on or ()
            if fact.id
        ]
        usage = response.usage
        return Reflection(
            answer=response.structured_output,
            text=response.text,
            memories=memories,
            error=response.structured_output_error,
            input_tokens=int(usage.input_tokens or 0) if usage else 0,
            output_tokens=int(usage.output_tokens or 0) if usage else 0,
        )
