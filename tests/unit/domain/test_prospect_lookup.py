"""Finding prospects among 10,000: the database narrows and cuts, Python never scans them."""

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, insert

from bot.domain.prospect_lookup import find_prospect
from memory.index import LocalIndex
from memory.index_tables import calls, prospects
from memory.prospects import prospect_slug

TODAY = date(2026, 11, 20)
MANY = 10_000


@pytest.fixture
def crowded(tmp_path: Path) -> Iterator[tuple[LocalIndex, list[str]]]:
    """A workspace with 10,000 prospects (one call each, newest first by number), plus two
    Okafors, one of them contacted long before all the others; and the SQL it runs."""
    url = f"sqlite:///{tmp_path}/crowded.db"
    index = LocalIndex.open(url)
    names = [f"Bulk Person {n:05d}" for n in range(MANY)]
    names += ["James Okafor", "Ada Okafor"]
    days = [TODAY - timedelta(days=n % 300) for n in range(MANY)]
    days += [TODAY, TODAY - timedelta(days=900)]
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            insert(prospects),
            [
                {"workspace_id": "T1", "slug": prospect_slug(n), "name": n, "last_contact": d}
                for n, d in zip(names, days, strict=True)
            ],
        )
        conn.execute(
            insert(calls),
            [
                {
                    "call_id": f"c{i}",
                    "workspace_id": "T1",
                    "slug": prospect_slug(name),
                    "rep_id": "U1",
                    "call_date": day,
                    "outcome": "neutral",
                    "confirmed": 2,
                }
                for i, (name, day) in enumerate(zip(names, days, strict=True))
            ],
        )
    engine.dispose()
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(index._engine, "before_cursor_execute", seen)
    yield index, statements
    index.close()


async def test_typeahead_with_10000_prospects_is_filtered_and_cut_in_sql(
    crowded: tuple[LocalIndex, list[str]],
) -> None:
    index, statements = crowded
    found = await index.search_prospects("T1", "person 0042")
    # 00420-00429 hold "person-0042", the most recently contacted first (120, 121… days ago).
    assert found == [f"Bulk Person {n:05d}" for n in range(420, 430)]
    assert len(await index.search_prospects("T1", "bulk")) == 20
    searches = [s for s in statements if "FROM prospects" in s]
    assert searches and all("LIKE" in s and "LIMIT" in s for s in searches)


async def test_a_word_finds_its_one_prospect_and_two_are_ambiguous_however_old(
    crowded: tuple[LocalIndex, list[str]],
) -> None:
    index, _ = crowded
    exact = await find_prospect(index, "T1", "bulk person 09999")
    assert (exact.known, exact.name) == (True, "Bulk Person 09999")
    both = await find_prospect(index, "T1", "okafor")
    assert both.ambiguous and sorted(both.suggestions) == ["Ada Okafor", "James Okafor"]
    one = await find_prospect(index, "T1", "ada okafor")
    assert (one.known, one.name) == (True, "Ada Okafor")
    # A near miss still gets "did you mean".
    typo = await find_prospect(index, "T1", "Jmes Okafor")
    assert not typo.known and typo.suggestions[0] == "James Okafor"
