"""Finding the prospect a rep means from what they typed."""

from __future__ import annotations

from dataclasses import dataclass

from memory.index import LocalIndex
from memory.prospects import clean_prospect_name, closest_names, prospect_slug


@dataclass(frozen=True)
class ProspectMatch:
    typed: str
    slug: str  # the slug to look up: the match's, or the typed name's own
    name: str  # display name: the known one when matched, else what was typed
    known: bool
    suggestions: list[str]  # "did you mean …" when not matched exactly
    ambiguous: bool = False  # the typed words fit several known prospects


async def find_prospect(index: LocalIndex, workspace_id: str, typed: str) -> ProspectMatch:
    """Exact (any case, accents, spacing), else a unique partial match, else suggestions."""
    name = clean_prospect_name(typed)
    slug = prospect_slug(name)
    known = await index.known_prospects(workspace_id)
    exact = next((p for p in known if p.slug == slug), None)
    if exact is not None:
        return ProspectMatch(typed, exact.slug, exact.name, True, [])
    words = slug.split("-")
    partial = [p for p in known if all(w in p.slug.split("-") for w in words)]
    if len(partial) == 1:
        return ProspectMatch(typed, partial[0].slug, partial[0].name, True, [])
    suggestions = [p.name for p in partial] or closest_names(name, [p.name for p in known])
    return ProspectMatch(typed, slug, name, False, suggestions[:5], ambiguous=len(partial) > 1)
