"""Prospect names: one slug per person however the name is typed."""

from __future__ import annotations

import difflib
import re
import unicodedata

MAX_PROSPECT_NAME = 60
# Words a lookup matches one by one (one LIKE each); a name within MAX_PROSPECT_NAME has fewer
# unless its characters decompose into many (NFKD), and such a lookup only finds no one.
MAX_NAME_WORDS = 12
NAME_TOO_LONG = f"A prospect name is at most {MAX_PROSPECT_NAME} characters."


class ProspectNameTooLong(ValueError):
    """What was typed is longer than any prospect's name: refused before any lookup."""

    def __init__(self) -> None:
        super().__init__(NAME_TOO_LONG)


# Letters and digits of any script stay ("张伟" is a name too); everything else separates.
_SEPARATORS = re.compile(r"[\W_]+")
_SPACES = re.compile(r"\s+")


def clean_prospect_name(name: str) -> str:
    """The name as shown: outer spaces removed, inner runs of spaces and newlines folded."""
    return _SPACES.sub(" ", name).strip()


def typed_prospect_name(typed: str) -> str:
    """The name a rep typed, cleaned, for a lookup; raises `ProspectNameTooLong` past the
    limit (nothing longer is ever stored, and a very long one is too costly to search)."""
    name = clean_prospect_name(typed)
    if len(name) > MAX_PROSPECT_NAME:
        raise ProspectNameTooLong
    return name


def prospect_slug(name: str) -> str:
    """The identity of a prospect: case, accents, punctuation and extra spaces do not matter.

    "priya  SHARMA", "Priya Sharma" and "Príya Sharma" are one prospect: ``priya-sharma``.
    """
    decomposed = unicodedata.normalize("NFKD", name)
    without_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SEPARATORS.sub("-", without_marks.casefold()).strip("-")


def closest_names(typed: str, known: list[str], limit: int = 3) -> list[str]:
    """Known display names that look like `typed`, best first (for "did you mean …")."""
    typed_slug = prospect_slug(typed)
    if not typed_slug:
        return []
    by_slug: dict[str, str] = {}
    for name in known:
        by_slug.setdefault(prospect_slug(name), name)
    # A typed part of a name ("okafor") is as good a hint as a near-miss spelling.
    partial = [s for s in by_slug if typed_slug in s.split("-") or s.startswith(typed_slug)]
    fuzzy = difflib.get_close_matches(typed_slug, list(by_slug), n=limit, cutoff=0.6)
    ranked = list(dict.fromkeys(partial + fuzzy))
    return [by_slug[s] for s in ranked[:limit]]
