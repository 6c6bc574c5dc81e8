"""Substring filters that find phrases fast: the name and description trigram indexes are
built on the text with its spaces swapped for a digit.

pg_trgm cuts text into words at every character that is neither a letter nor a digit, so
none of its trigrams spans a space. For `brass lamp glass` the plain index can only look
for rows holding the trigrams of `brass`, `lamp` and `glass` somewhere, which in a catalog
made of such words is one row in ten, each read and rechecked: 325 ms at 500,000
products. Built on `translate(description, ' 9', '9 ')` (every space becomes a 9 and
every 9 a space), the same phrase is one word, `brass9lamp9glass`, whose trigrams `ss9`,
`s9l`, `9la`, ... span the spaces: 1,180 candidates instead of 45,000, 35 ms
(benchmarks/import_bench.py prints the list queries' times).

Exact, not approximate: the swap maps characters one to one, and neither a space nor a
digit has a case or changes how the letters beside it are lower-cased (as a letter would:
a final sigma is lower-cased by what follows it), so `swap(column) ILIKE swap(pattern)`
holds for exactly the rows where `column ILIKE pattern` does. The trigram index is only a
filter in front of that test; the test itself decides.

The swapped form is used only where its index is in place: while an index is set aside for
a big import (imports.deferred_indexes), or is being built, or on a server without pg_trgm,
the filter reads the table row by row, and the plain `ILIKE` costs a third of the swapped
one there.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

# Column -> its phrase index (migration 0020_phrase_search builds them where pg_trgm is).
PHRASE_INDEXES = {
    "name": "products_name_phrase_trgm",
    "description": "products_description_phrase_trgm",
}
# The SQL side of `swap`, as the indexes are defined: the expression must match to the
# character for the planner to use them.
_SWAPPED = "translate({}, ' 9', '9 ')"
_SWAP = str.maketrans(" 9", "9 ")

# Built, valid, and no longer recorded as set aside (the rebuild analyses an expression
# before it removes the record: imports.deferred_indexes).
_VALID = """
SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = 'products'::regclass AND i.indisvalid AND c.relname = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM deferred_indexes d WHERE d.name = c.relname)
"""


def swap(term: str) -> str:
    """The term as the phrase indexes see text: spaces and 9s exchanged."""
    return term.translate(_SWAP)


def phrase_indexed(conn: psycopg.Connection) -> frozenset[str]:
    """The columns whose phrase index is in place now (built, valid, analysed)."""
    by_name = {index: column for column, index in PHRASE_INDEXES.items()}
    rows = conn.execute(_VALID, (list(by_name),)).fetchall()
    return frozenset(by_name[name] for (name,) in rows)


def searched(column: str, indexed: frozenset[str]) -> tuple[sql.Composable, bool]:
    """The expression a substring filter on `column` compares, and whether the term must
    be swapped to match it."""
    if column in indexed:
        return sql.SQL(_SWAPPED).format(sql.Identifier(column)), True
    return sql.Identifier(column), False
