"""One page of the catalog: filters, sort, paging, and a total that never makes a page slow.

Substring filters are `ILIKE '%term%'`, which the trigram GIN indexes serve when the
server has pg_trgm (migrations 0004 and 0020; names and descriptions are compared in the
form their phrase indexes serve, see products.phrase_search). Every sort walks a
`(column, id)` index.

The page and its total are read in one REPEATABLE READ transaction, so they describe the
same catalog. The unfiltered total is the catalog's exact size, kept by triggers in the
same transaction as every change (catalog_statistics). A filtered total is exact up to
COUNT_CAP matching products. Beyond that, counting every match would cost time
proportional to the catalog on every page turn, so the page answers an estimate instead
(`total_is_exact` false, the UI says "about"): the planner's, never below COUNT_CAP + 1
nor what the pages show, never above the catalog's size. A count that still takes longer
than COUNT_TIMEOUT_MS is given up for the estimate too. At 500,000 products a cap of
10,000 cost common filters 20-50 ms per page just to count; 1,000 costs 4-9 ms
(benchmarks/products_bench.py).

A filtered page reads up to COUNT_CAP + 1 matches first, in one statement that counts them
and sorts the page out of them: when they are all the matches (a rare word, a phrase),
that one scan answers both the page and its exact total, where counting and paging apart
read the same matches twice (a description phrase at 500,000 products: one 35 ms scan
instead of two). When more match, the page is read in sort order (walking the sort's
index stops after one page) and the total is the estimate.

A page query that runs longer than PAGE_TIMEOUT_MS is stopped and answers ListTooSlow
(503 over HTTP, a message in the UI) rather than holding a connection and a core.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from product_importer import db
from product_importer.catalog_statistics import catalog_size, indexes_set_aside
from product_importer.models import Product
from product_importer.products.phrase_search import phrase_indexed, searched, swap

log = logging.getLogger(__name__)

COUNT_CAP = 1_000
# Long enough for a capped count to finish on a server without pg_trgm (a scan of
# 500,000 products), so that totals up to the cap are exact on every server.
COUNT_TIMEOUT_MS = 2_000
PAGE_TIMEOUT_MS = 5_000
# While a big import's set-aside indexes are built again (imports.deferred_indexes), a
# filter scans the table: at 2,000,000 products a rare substring takes several seconds,
# and must still find what the import committed rather than time out.
CATCHING_UP_PAGE_TIMEOUT_MS = 30_000
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50
# Sortable columns and the expression each sorts on (SKUs sort case-insensitively).
SORT_COLUMNS = {
    "sku": "lower(sku)",
    "name": "name",
    "price": "price",
    "active": "active",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "id": "id",
}
DEFAULT_SORT = "sku"
# The substring filters' columns, which `q` looks in all at once.
SUBSTRING_COLUMNS = ("sku", "name", "description")
# From this offset on, a page first picks its ids from the index alone, then reads only
# those rows: skipping thousands of rows costs index entries, not table rows.
_DEFERRED_JOIN_OFFSET = 1_000
_COLUMNS = "id, sku, name, description, price, active, created_at, updated_at"


class ListTooSlow(Exception):
    """A page query ran past its time and was stopped; nothing was changed."""

    def __init__(self, timeout_ms: int = PAGE_TIMEOUT_MS) -> None:
        super().__init__(
            f"listing these products took longer than {timeout_ms // 1000} s and was "
            "stopped: narrow the filters, or ask for an earlier page"
        )


class InvalidQuery(ValueError):
    """A list parameter is wrong: `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class ProductFilter:
    """What to show: case-insensitive substrings (blank = any) and the active flag."""

    sku: str = ""
    name: str = ""
    description: str = ""
    q: str = ""  # in the SKU, the name or the description
    active: bool | None = None

    def is_empty(self) -> bool:
        return not (self.sku or self.name or self.description or self.q) and self.active is None


@dataclass(frozen=True)
class ProductSort:
    column: str = DEFAULT_SORT
    descending: bool = False

    @classmethod
    def parse(cls, raw: str | None) -> ProductSort:
        """`name` ascending, `-name` descending; blank is the default (SKU)."""
        raw = (raw or "").strip()
        if not raw:
            return cls()
        descending = raw.startswith("-")
        column = raw.lstrip("-").strip()
        if column not in SORT_COLUMNS:
            raise InvalidQuery(
                "sort",
                f"cannot sort by {column!r}: use one of {', '.join(SORT_COLUMNS)} "
                "(prefix - for descending)",
            )
        return cls(column, descending)

    def __str__(self) -> str:
        return ("-" if self.descending else "") + self.column


@dataclass
class ProductPage:
    items: list[Product]
    total: int
    total_is_exact: bool
    page: int
    page_size: int
    filters: ProductFilter = field(default_factory=ProductFilter)
    sort: ProductSort = field(default_factory=ProductSort)


def like_pattern(term: str) -> str:
    """`%term%` with LIKE's wildcards in the term matched literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _substring(column: str, term: str, indexed: frozenset[str]) -> tuple[sql.Composable, str]:
    expression, swapped = searched(column, indexed)
    return sql.SQL("{} ILIKE %s").format(expression), like_pattern(swap(term) if swapped else term)


def where_clause(
    filters: ProductFilter, indexed: frozenset[str] = frozenset()
) -> tuple[sql.Composable, list[Any]]:
    """The WHERE clause (or nothing) and its parameters. `indexed` names the columns
    whose phrase index is in place, compared in the form it serves (products.phrase_search);
    the others are compared as they are."""
    conditions: list[sql.Composable] = []
    params: list[Any] = []
    for column in SUBSTRING_COLUMNS:
        term = getattr(filters, column).strip()
        if term:
            condition, param = _substring(column, term, indexed)
            conditions.append(condition)
            params.append(param)
    if q := filters.q.strip():
        alternatives = [_substring(column, q, indexed) for column in SUBSTRING_COLUMNS]
        conditions.append(sql.SQL("({})").format(sql.SQL(" OR ").join(c for c, _ in alternatives)))
        params.extend(param for _, param in alternatives)
    if filters.active is not None:
        conditions.append(sql.SQL("active = %s"))
        params.append(filters.active)
    if not conditions:
        return sql.SQL(""), params
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions), params


def order_clause(sort: ProductSort) -> sql.Composable:
    direction = sql.SQL("DESC" if sort.descending else "ASC")
    expression = sql.SQL(SORT_COLUMNS[sort.column])
    if sort.column in ("sku", "id"):  # unique already
        return sql.SQL("ORDER BY {} {}").format(expression, direction)
    return sql.SQL("ORDER BY {} {}, id {}").format(expression, direction, direction)


def page_query(
    filters: ProductFilter,
    sort: ProductSort,
    page: int,
    page_size: int,
    indexed: frozenset[str] = frozenset(),
) -> tuple[sql.Composable, list[Any]]:
    """The SELECT of one page, and its parameters."""
    where, params = where_clause(filters, indexed)
    order = order_clause(sort)
    offset = (page - 1) * page_size
    columns = sql.SQL(_COLUMNS)
    if offset < _DEFERRED_JOIN_OFFSET:
        query = sql.SQL("SELECT {} FROM products{} {} LIMIT %s OFFSET %s").format(
            columns, where, order
        )
    else:
        query = sql.SQL(
            "SELECT {} FROM products WHERE id IN ("
            "SELECT id FROM products{} {} LIMIT %s OFFSET %s) {}"
        ).format(columns, where, order, order)
    return query, [*params, page_size, offset]


def _estimate(conn: psycopg.Connection, where: sql.Composable, params: list[Any]) -> int:
    plan = db.scalar(
        conn, sql.SQL("EXPLAIN (FORMAT JSON) SELECT 1 FROM products{}").format(where), params
    )
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def _capped(conn: psycopg.Connection, query: sql.Composable, params: list[Any]) -> list[Any] | None:
    """Rows of a query that reads at most COUNT_CAP + 1 matches, or None when it ran past
    COUNT_TIMEOUT_MS."""
    try:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            cur.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(COUNT_TIMEOUT_MS))
            return cur.execute(query, params).fetchall()  # type: ignore[call-overload]
    except psycopg.errors.QueryCanceled:
        return None


def _total(
    conn: psycopg.Connection, where: sql.Composable, params: list[Any], counted: int | None
) -> tuple[int, bool]:
    """The total from a capped count (None: it ran out of time), exact up to the cap."""
    if counted is not None and counted <= COUNT_CAP:
        return counted, True
    floor = COUNT_CAP + 1 if counted is not None else 0
    return min(max(floor, _estimate(conn, where, params)), catalog_size(conn)), False


def count_products(
    conn: psycopg.Connection,
    filters: ProductFilter,
    indexed: frozenset[str] = frozenset(),
) -> tuple[int, bool]:
    """How many products match, and whether that number is exact (see the module doc)."""
    if filters.is_empty():
        return catalog_size(conn), True
    where, params = where_clause(filters, indexed)
    query = sql.SQL(
        "SELECT count(*) AS n FROM (SELECT 1 FROM products{} LIMIT {}) AS capped"
    ).format(where, sql.Literal(COUNT_CAP + 1))
    rows = _capped(conn, query, params)
    return _total(conn, where, params, None if rows is None else int(rows[0]["n"]))


def _from_every_match(
    conn: psycopg.Connection,
    filters: ProductFilter,
    sort: ProductSort,
    page: int,
    page_size: int,
    indexed: frozenset[str],
) -> tuple[list[dict] | None, int | None]:
    """A filtered page and its count from one scan: up to COUNT_CAP + 1 matches are read,
    counted, and the page sorted out of them. Answers (the page's rows, the count) when
    at most COUNT_CAP match; (None, COUNT_CAP + 1) when more do (the page must then be read
    in sort order); (None, None) when reading them ran out of time. A filter that matches
    few products (a rare word, a phrase) so costs one scan instead of two."""
    where, params = where_clause(filters, indexed)
    query = sql.SQL(
        "WITH matched AS MATERIALIZED (SELECT {columns} FROM products{where} LIMIT {cap}),"
        " counted AS (SELECT count(*) AS matched FROM matched)"
        " SELECT page.*, counted.matched FROM counted LEFT JOIN LATERAL"
        " (SELECT {columns} FROM matched {order} LIMIT %s OFFSET %s) AS page ON true"
    ).format(
        columns=sql.SQL(_COLUMNS),
        where=where,
        cap=sql.Literal(COUNT_CAP + 1),
        order=order_clause(sort),
    )
    rows = _capped(conn, query, [*params, page_size, (page - 1) * page_size])
    if rows is None:
        return None, None
    matched = int(rows[0]["matched"])
    if matched > COUNT_CAP:
        return None, matched
    for row in rows:
        del row["matched"]
    # Past the last match the page is one row of NULLs, carrying only the count.
    return [row for row in rows if row["id"] is not None], matched


def _read_page(
    conn: psycopg.Connection,
    filters: ProductFilter,
    sort: ProductSort,
    page: int,
    page_size: int,
    indexed: frozenset[str] = frozenset(),
) -> list[dict]:
    """One page in sort order, within PAGE_TIMEOUT_MS (CATCHING_UP_PAGE_TIMEOUT_MS for a
    filter while indexes are set aside); ListTooSlow past it."""
    query, params = page_query(filters, sort, page, page_size, indexed)
    timeout_ms = (
        CATCHING_UP_PAGE_TIMEOUT_MS
        if not filters.is_empty() and indexes_set_aside(conn)
        else PAGE_TIMEOUT_MS
    )
    conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(timeout_ms))
    try:
        with conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(query, params).fetchall()  # type: ignore[call-overload]
    except psycopg.errors.QueryCanceled:
        raise ListTooSlow(timeout_ms) from None


def list_products(
    filters: ProductFilter | None = None,
    sort: ProductSort | None = None,
    *,
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> ProductPage:
    """One page of products matching `filters`, in `sort` order, with the total."""
    filters = filters or ProductFilter()
    sort = sort or ProductSort()
    if page < 1:
        raise InvalidQuery("page", "page must be 1 or more")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidQuery("page_size", f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    with db.pooled_connection() as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        if filters.is_empty():
            rows = _read_page(conn, filters, sort, page, page_size)
            total, exact = catalog_size(conn), True
        else:
            indexed = phrase_indexed(conn)
            found, counted = _from_every_match(conn, filters, sort, page, page_size, indexed)
            rows = (
                found
                if found is not None
                else _read_page(conn, filters, sort, page, page_size, indexed)
            )
            where, params = where_clause(filters, indexed)
            total, exact = _total(conn, where, params, counted)
        conn.rollback()  # read only: nothing to keep
    items = [Product.model_validate(row) for row in rows]
    shown = (page - 1) * page_size + len(items)
    if not exact and len(items) < page_size and (items or page == 1):
        # A short page is the last one: the exact total is known after all.
        total, exact = shown, True
    elif not exact:
        # An estimate is never below what the pages show, and after a full page there
        # may be more: the next page stays reachable however low the planner guessed.
        total = max(total, shown + (1 if len(items) == page_size else 0))
    return ProductPage(items, total, exact, page, page_size, filters, sort)
