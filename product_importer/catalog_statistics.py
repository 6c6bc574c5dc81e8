"""What is known of the catalog as a whole: its exact size, and the planner's statistics.

The exact size is the sum of `product_count_deltas`, rows that triggers on `products`
write in the same transaction as every insert and delete (migration 0010): a reader
sees the size of exactly the catalog its snapshot sees, whatever wrote it (an import,
the form, the API, a delete-all). After a big job both are tidied: the delta rows are
folded into one and the planner's statistics refreshed.
"""

from __future__ import annotations

import logging

import psycopg

from product_importer import db

log = logging.getLogger(__name__)

_SIZE = "SELECT coalesce(sum(delta), 0)::bigint FROM product_count_deltas"
# Only the rows this statement's snapshot sees are folded (READ COMMITTED): a delta that a
# concurrent writer commits meanwhile stays as it is, and two compactions never fold one
# row twice (the second finds it gone and skips it).
_COMPACT = """
WITH folded AS (DELETE FROM product_count_deltas RETURNING delta)
INSERT INTO product_count_deltas (delta)
SELECT sum(delta) FROM folded HAVING count(*) > 1 OR sum(delta) <> 0
"""


def indexes_set_aside(conn: psycopg.Connection) -> int:
    """How many of products' indexes a big import set aside are still to be built again
    (imports.deferred_indexes): while any is, filters scan the table."""
    return int(db.scalar(conn, "SELECT count(*) FROM deferred_indexes") or 0)


def catalog_size(conn: psycopg.Connection) -> int:
    """How many products the catalog holds, exactly, as `conn`'s snapshot sees it."""
    return int(db.scalar(conn, _SIZE) or 0)


def compact_catalog_size() -> None:
    """Fold the size's delta rows into one, so that reading the size stays a few rows."""
    try:
        with db.connect() as conn:
            conn.execute(_COMPACT)
            conn.commit()
    except psycopg.Error as exc:  # the size is still exact, only slower to add up
        log.warning("could not compact the catalog's size: %s", exc)


def refresh_estimates() -> None:
    """After a job that changed much of the catalog: compact its size, and ANALYZE it so
    that "about N" totals of filters follow at once instead of whenever autovacuum comes
    by (about half a second at 500,000 products)."""
    compact_catalog_size()
    try:
        with db.connect(autocommit=True) as conn:
            conn.execute("ANALYZE products")
    except psycopg.Error as exc:  # the job itself is done; autovacuum will catch up
        log.warning("could not refresh the catalog's statistics: %s", exc)
