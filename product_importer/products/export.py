"""The catalog (or what a filter shows) as a CSV file with the import's columns, streamed
from PostgreSQL by COPY ... TO STDOUT: never held in memory, and imported back it changes
nothing. Text cells a spreadsheet would run as formulas are neutralised (formula_cells)."""

from __future__ import annotations

from collections.abc import Iterator

from psycopg import sql

from product_importer import db
from product_importer.csvfile.formula_cells import neutralised_sql
from product_importer.products.listing import ProductFilter, where_clause

EXPORT_COLUMNS = ("sku", "name", "description", "price", "active")


def export_query(filters: ProductFilter) -> tuple[sql.Composed, list[object]]:
    """The COPY statement for the products the filters show, by SKU, and its parameters."""
    where, params = where_clause(filters)
    select = sql.SQL(
        "SELECT "
        + ", ".join(neutralised_sql(c) for c in ("sku", "name", "description"))
        + ", price, CASE WHEN active THEN 'true' ELSE 'false' END FROM products"
    )
    query = (
        sql.SQL("COPY (") + select + where + sql.SQL(" ORDER BY sku) TO STDOUT WITH (FORMAT csv)")
    )
    return query, list(params)


def export_csv(filters: ProductFilter) -> Iterator[bytes]:
    """The CSV file in pieces: a header line, then one line per product."""
    query, params = export_query(filters)
    yield (",".join(EXPORT_COLUMNS) + "\n").encode()
    with db.pooled_connection() as conn:
        with conn.cursor() as cur, cur.copy(query, params) as copy:
            for piece in copy:
                yield bytes(piece)
        conn.rollback()
