"""Finding the prospect a rep means from what they typed."""

from __future__ import annotations

from dataclasses import dataclass

from memory.index import LocalIndex
from memory.prospects import closest_names, prospect_slug, typed_prospect_name


@dataclass(frozen=True)
class ProspectMatch:
    typed: str
    slug: str  # the slug to look up: the match's, or the typed name's own
    name: str  # display name: the known one when matched, else what was typed
    known: bool
    suggestions: list[str]  # "did you mean …" when not matched exactly
    ambiguous: bool = False  # the typed words fit several known prospects


async def find_prospect(
    index: LocalIndex, workspace_id: str, typed: str, rep_id: str | None = None
) -> ProspectMatch:
    """Exact (any case, accents, spacing), else a unique partial match, else suggestions;
    with `rep_id`, among the prospects that rep has logged only (NOTES_VISIBILITY=own).
    Raises `ProspectNameTooLong` before any lookup when no prospect can have such a name."""
    name = typed_prospect_name(typed)
    slug = prospect_slug(name)
    if not slug:
        return ProspectMatch(typed, slug, name, False, [])
    exact = await index.prospect(workspace_id, slug, rep_id)
    if exact is not None:
        return ProspectMatch(typed, exact.slug, exact.name, True, [])
    # Every typed word a whole word of the name, in SQL: "okafor" finds James Okafor.
    partial = await index.prospects_with_words(workspace_id, slug.split("-"), 6, rep_id)
    if len(partial) == 1:
        return ProspectMatch(typed, partial[0].slug, partial[0].name, True, [])
    if partial:
        suggestions = [p.name for p in partial]
    else:
        suggestions = closest_names(name, await index.prospect_names(workspace_id, rep_id))
    return ProspectMatch(typed, slug, name, False, suggestions[:5], ambiguous=len(partial) > 1)
