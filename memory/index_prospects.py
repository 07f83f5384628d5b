"""The local index's prospects: the names a workspace (or one rep) has logged calls with, for
typeahead, "did you mean", the home tab and the digest; filtered and cut in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, exists, func, or_, select

from memory.index_base import IndexBase, offloaded
from memory.index_tables import calls, prospects
from memory.prospects import (
    MAX_NAME_WORDS,
    MAX_PROSPECT_NAME,
    clean_prospect_name,
    prospect_slug,
)


@dataclass(frozen=True)
class KnownProspect:
    slug: str
    name: str
    company: str
    last_contact: date | None
    interactions: int


class ProspectIndex(IndexBase):
    """Looking prospects up by name, words or slug."""

    @offloaded("read")
    def known_prospects(self, workspace_id: str, rep_id: str | None = None) -> list[KnownProspect]:
        """A workspace's prospects (or only those `rep_id` logged calls with), latest first."""
        with self._engine.connect() as conn:
            return _known_prospects(conn, workspace_id, rep_id)

    @offloaded("read")
    def search_prospects(
        self, workspace_id: str, typed: str, limit: int = 20, rep_id: str | None = None
    ) -> list[str]:
        """Known names whose slug contains what was typed (typeahead), most recent first;
        filtered and cut in SQL, so it costs the same with 10 prospects or 10,000. With
        `rep_id`, only prospects that rep has logged a call with."""
        if len(clean_prospect_name(typed)) > MAX_PROSPECT_NAME:
            return []  # no stored name is that long, and the LIKE would cost the most
        query = (
            select(prospects.c.name)
            .where(
                prospects.c.workspace_id == workspace_id,
                prospects.c.slug.contains(prospect_slug(typed), autoescape=True),
                *_logged_by(workspace_id, rep_id),
            )
            .order_by(prospects.c.last_contact.desc(), prospects.c.name.desc())
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return [row.name for row in conn.execute(query)]

    @offloaded("read")
    def prospects_with_words(
        self, workspace_id: str, words: list[str], limit: int = 50, rep_id: str | None = None
    ) -> list[KnownProspect]:
        """Prospects whose name holds every one of `words` as a whole word ("okafor" finds
        james-okafor, "oka" does not), most recent first (with `rep_id`: that rep's only)."""
        if len(words) > MAX_NAME_WORDS:
            return []  # one LIKE per word: a flood of words would overflow SQLite's expression tree
        with self._engine.connect() as conn:
            return _known_prospects(conn, workspace_id, rep_id, words=words, limit=limit)

    @offloaded("read")
    def prospect_names(self, workspace_id: str, rep_id: str | None = None) -> list[str]:
        """Every known name in a workspace (with `rep_id`: that rep's), nothing else (for
        "did you mean")."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(prospects.c.name).where(
                    prospects.c.workspace_id == workspace_id, *_logged_by(workspace_id, rep_id)
                )
            )
            return [row[0] for row in rows]

    @offloaded("read")
    def prospect(
        self, workspace_id: str, slug: str, rep_id: str | None = None
    ) -> KnownProspect | None:
        """The prospect (with `rep_id`: only if that rep has logged a call with it)."""
        with self._engine.connect() as conn:
            found = _known_prospects(conn, workspace_id, rep_id, slug=slug)
        return found[0] if found else None


def _known_prospects(
    conn: Connection,
    workspace_id: str,
    rep_id: str | None,
    slug: str | None = None,
    limit: int | None = None,
    words: list[str] | None = None,
) -> list[KnownProspect]:
    """Prospects with their last contact and call count, most recent first: all of a
    workspace's, or a rep's, or those whose slug is `slug` or holds every one of `words` as a
    whole word (slug words are joined by "-")."""

    def narrowed(query: Any, column: Any) -> Any:
        if slug is not None:
            query = query.where(column == slug)
        for word in words or ():
            query = query.where(
                or_(
                    column == word,
                    column.startswith(f"{word}-", autoescape=True),
                    column.endswith(f"-{word}", autoescape=True),
                    column.contains(f"-{word}-", autoescape=True),
                )
            )
        return query

    mine = [calls.c.workspace_id == workspace_id, calls.c.slug == prospects.c.slug]
    if rep_id is not None:
        mine.append(calls.c.rep_id == rep_id)
    # Per prospect, through the calls_by_prospect index: only the prospects kept are counted.
    last_contact = select(func.max(calls.c.call_date)).where(*mine).scalar_subquery()
    interactions = select(func.count()).select_from(calls).where(*mine).scalar_subquery()
    query = narrowed(
        select(
            prospects.c.slug,
            prospects.c.name,
            prospects.c.company,
            last_contact.label("last_contact"),
            interactions.label("interactions"),
        ).where(prospects.c.workspace_id == workspace_id),
        prospects.c.slug,
    ).order_by(last_contact.desc().nulls_last(), prospects.c.name.desc())
    if rep_id is not None:
        query = query.where(exists().where(*mine))
    if limit is not None:
        query = query.limit(limit)
    return [
        KnownProspect(
            slug=row.slug,
            name=row.name,
            company=row.company,
            last_contact=row.last_contact,
            interactions=row.interactions or 0,
        )
        for row in conn.execute(query).all()
    ]


def _logged_by(workspace_id: str, rep_id: str | None) -> list[Any]:
    """The condition that the rep has logged a call with the prospect (none without a rep)."""
    if rep_id is None:
        return []
    return [
        exists().where(
            calls.c.workspace_id == workspace_id,
            calls.c.slug == prospects.c.slug,
            calls.c.rep_id == rep_id,
        )
    ]
