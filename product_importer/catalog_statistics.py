"""The planner's statistics of the catalog, refreshed when a job changed much of it."""

from __future__ import annotations

import logging

import psycopg

from product_importer import db

log = logging.getLogger(__name__)


def refresh_estimates() -> None:
    """ANALYZE the catalog, so that "about N" totals follow a big import or a delete-all at
    once instead of whenever autovacuum comes by (about half a second at 500,000 rows)."""
    try:
        with db.connect(autocommit=True) as conn:
            conn.execute("ANALYZE products")
    except psycopg.Error as exc:  # the job itself is done; autovacuum will catch up
        log.warning("could not refresh the catalog's statistics: %s", exc)
