"""Formula cells: a CSV value that a spreadsheet would run as a formula is written with a
leading apostrophe (OWASP's CSV-injection advice), and read back as the original value.

A cell is a formula cell when it starts with `=`, `+`, `-`, `@`, a TAB or a CR. A value
that already starts with apostrophes before one of those characters gets one more, so
that reading back is exact for every value: `restore(neutralise(v)) == v`.

`neutralise` serves every CSV the app writes in Python, `neutralised_sql` the ones
PostgreSQL writes with COPY, and `restore` the import's reading of a cell.
"""

from __future__ import annotations

import re

# The characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
_COLUMN = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?")


def _is_formula(value: str) -> bool:
    """Whether the value, past any leading apostrophes, starts like a formula."""
    return value.lstrip(QUOTE)[:1] in FORMULA_STARTS


def neutralise(value: str) -> str:
    """The value as a CSV cell no spreadsheet runs: a leading apostrophe when it would."""
    return QUOTE + value if _is_formula(value) else value


def restore(value: str) -> str:
    """A cell read from a file back to the value `neutralise` was given."""
    if value.startswith(QUOTE) and _is_formula(value):
        return value[1:]
    return value


def neutralised_sql(column: str) -> str:
    """The SQL expression of `neutralise` for a text column (`name` or `table.name`),
    for COPY ... TO STDOUT."""
    if not _COLUMN.fullmatch(column):
        raise ValueError(f"not a plain column name: {column!r}")
    starts = "'=', '+', '-', '@', chr(9), chr(13)"
    return (
        f"CASE WHEN left(ltrim({column}, ''''), 1) IN ({starts})"
        f" THEN '''' || {column} ELSE {column} END"
    )
