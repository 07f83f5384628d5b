"""Where a string is still stored in the memory server's database: every column of every
table that can hold text (text, varchar, char, json, jsonb, bytea, tsvector, text arrays) is
searched, so what an erasure must remove cannot hide in a table nobody thought of."""

from __future__ import annotations

import psycopg
from psycopg import sql

_TEXTUAL = """
SELECT c.table_schema, c.table_name, c.column_name, c.data_type
FROM information_schema.columns AS c
JOIN information_schema.tables AS t
  ON t.table_schema = c.table_schema AND t.table_name = c.table_name
WHERE t.table_type = 'BASE TABLE'
  AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
  AND c.table_schema NOT LIKE 'pg_toast%'
  AND (
    c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea')
    OR c.udt_name IN ('tsvector', '_text', '_varchar')
  )
ORDER BY c.table_schema, c.table_name, c.column_name
"""


_BANKED = """
SELECT table_schema, table_name FROM information_schema.columns WHERE column_name = 'bank_id'
"""


def residue(dsn: str, marker: str, bank: str | None = None) -> list[str]:
    """The "table.column" (schema-qualified outside `public`) of every column that holds
    `marker` (in any letter case) in some row; with `bank`, rows of a table that names its
    bank are searched only in that bank (other tests' banks on the same server may hold the
    same name), and every row of any other table."""
    hits: list[str] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        columns = conn.execute(_TEXTUAL).fetchall()
        banked = {tuple(row) for row in conn.execute(_BANKED).fetchall()}
        for schema, table, column, data_type in columns:
            if data_type == "bytea":
                found = sql.SQL("position({marker} IN {col}) > 0").format(
                    marker=sql.Literal(marker.encode()), col=sql.Identifier(column)
                )
            else:
                # Case folded: a name may be stored capitalised, and a tsvector lower-cased.
                found = sql.SQL("strpos(lower({col}::text), {marker}) > 0").format(
                    col=sql.Identifier(column), marker=sql.Literal(marker.lower())
                )
            if bank is not None and (schema, table) in banked:
                found = sql.SQL("{found} AND bank_id = {bank}").format(
                    found=found, bank=sql.Literal(bank)
                )
            query = sql.SQL("SELECT 1 FROM {table} WHERE {found} LIMIT 1").format(
                table=sql.Identifier(schema, table), found=found
            )
            if conn.execute(query).fetchone() is not None:
                name = f"{table}.{column}"
                hits.append(name if schema == "public" else f"{schema}.{name}")
    return hits
