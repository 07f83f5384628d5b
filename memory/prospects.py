"""Prospect names: one slug per person however the name is typed."""

from __future__ import annotations

import difflib
import re
import unicodedata

MAX_PROSPECT_NAME = 60

# Letters and digits of any script stay ("张伟" is a name too); everything else separates.
_SEPARATORS = re.compile(r"[\W_]+")
_SPACES = re.compile(r"\s+")


def clean_prospect_name(name: str) -> str:
    """The name as shown: outer spaces removed, inner runs of spaces and newlines folded."""
    return _SPACES.sub(" ", name).strip()


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
