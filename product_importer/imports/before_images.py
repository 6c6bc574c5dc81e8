"""Before-images: what an import changed, recorded so that it can be reverted.

The engine records them in the transaction of each batch it commits, with one set-based
statement per batch (never a row at a time), so a crash mid-import leaves exactly the
before-images of the batches that committed:
- for each product a batch updates, its values before (taken under a row lock, in the
  batch's transaction, just before the upsert);
- for each product a batch creates, its key only (a revert deletes it);
- for the products missing from the file that the import deactivated or deleted, their
  values before.

Each also keeps `applied_at`, the `updated_at` the import gave the product (the batch
transaction's `now()`). Every writer of products (imports, the product form and the API,
a revert) sets `updated_at = now()`, so a product whose `updated_at` differs at revert
time was changed again since (or deleted and made again): a timestamp comparison, exact
and free to record, rather than a hash of the values, which would cost every batch a
hash per row and would have to normalise values exactly as the table stores them.
"""

from __future__ import annotations

from datetime import timedelta

import psycopg
from psycopg import sql

from product_importer.settings import settings

# Over `import_before_images b LEFT JOIN products p ON lower(p.sku) = b.key`: the product
# was changed since the import (a created or updated one whose updated_at is not the
# import's, or that is gone; a deleted one that exists again).
CHANGED_SINCE = """CASE WHEN b.change = 'd' THEN p.id IS NOT NULL
    ELSE p.id IS NULL OR p.updated_at IS DISTINCT FROM b.applied_at END"""

_COLUMNS = "job_id, seq, key, change, sku, name, description, price, active, applied_at"

# The products a batch is about to update, locked until the batch commits so that what
# is recorded is what the upsert overwrites. The condition is the upsert's own.
_RECORD_UPDATES = """
INSERT INTO import_before_images ({columns})
SELECT %(job_id)s, d.seq, d.key, 'u', p.sku, p.name, p.description, p.price, p.active, now()
FROM {dedup} d JOIN products p ON lower(p.sku) = d.key
WHERE d.seq > %(first)s::integer AND d.seq <= %(last)s::integer AND NOT d.same
    AND (d.known OR %(all)s)
    AND (p.sku, p.name, p.description, p.price, p.active)
        IS DISTINCT FROM (d.sku, d.name, d.description, d.price, d.active)
FOR UPDATE OF p
"""

# A batch's insert (`written`, answering each row's `key` and whether it was `inserted`)
# and the before-images of the products it created, in one statement; it answers how
# many rows were inserted and how many written in all.
_RECORD_CREATED = """
WITH written AS ({write}),
recorded AS (
    INSERT INTO import_before_images (job_id, seq, key, change, applied_at)
    SELECT %(job_id)s, d.seq, w.key, 'c', now()
    FROM written w JOIN {dedup} d ON d.key = w.key
    WHERE w.inserted AND d.seq > %(first)s::integer AND d.seq <= %(last)s::integer
)
SELECT count(*) FILTER (WHERE inserted), count(*) FROM written
"""

# The catalog's products missing from the file, deactivated or deleted with their
# before-images; numbered after the file's products.
_DEACTIVATE_MISSING = """
WITH changed AS (
    UPDATE products p SET active = false, updated_at = now() WHERE p.active AND {missing}
    RETURNING p.sku, p.name, p.description, p.price
)
INSERT INTO import_before_images ({columns})
SELECT %(job_id)s, %(after)s::integer + row_number() OVER (ORDER BY lower(sku)),
       lower(sku), 'u', sku, name, description, price, true, now()
FROM changed
"""
_DELETE_MISSING = """
WITH gone AS (
    DELETE FROM products p WHERE {missing}
    RETURNING p.sku, p.name, p.description, p.price, p.active
)
INSERT INTO import_before_images ({columns})
SELECT %(job_id)s, %(after)s::integer + row_number() OVER (ORDER BY lower(sku)),
       lower(sku), 'd', sku, name, description, price, active, now()
FROM gone
"""

# Imports ended longer ago than the retention lose their before-images (and with them
# the possibility of a revert), unless a revert of theirs waits or runs.
_EXPIRED = """
SELECT j.id FROM import_jobs j
WHERE j.revertible AND j.finished_at < now() - %(keep)s
    AND NOT EXISTS (SELECT 1 FROM import_reverts r
                    WHERE r.import_id = j.id AND r.status IN ('pending', 'processing'))
ORDER BY j.id
"""


def record_updates(conn: psycopg.Connection, dedup: sql.Identifier, bounds: dict) -> int:
    """Record (and lock) the products of this batch that its upsert will change."""
    return conn.execute(
        sql.SQL(_RECORD_UPDATES).format(columns=sql.SQL(_COLUMNS), dedup=dedup), bounds
    ).rowcount


def write_recording_created(
    conn: psycopg.Connection, write: str, dedup: sql.Identifier, bounds: dict
) -> tuple[int, int]:
    """Run a batch's INSERT (`write`, ending in RETURNING key, inserted) and record the
    products it created; answer (inserted, written)."""
    statement = sql.SQL(_RECORD_CREATED).format(
        write=sql.SQL(write).format(dedup=dedup), dedup=dedup
    )
    row = conn.execute(statement, bounds).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def settle_missing_recorded(
    conn: psycopg.Connection, missing: sql.Composable, *, delete: bool, job_id: int, after: int
) -> int:
    """Deactivate (or delete) the products missing from the file, recording their
    before-images; answer how many."""
    statement = _DELETE_MISSING if delete else _DEACTIVATE_MISSING
    return conn.execute(
        sql.SQL(statement).format(missing=missing, columns=sql.SQL(_COLUMNS)),
        {"job_id": job_id, "after": after},
    ).rowcount


def remove_expired(conn: psycopg.Connection) -> list[int]:
    """Remove the before-images older than the retention (REVERT_DAYS), one import per
    transaction; answer the imports that can no longer be reverted."""
    keep = timedelta(days=settings.revert_days)
    expired = [int(r[0]) for r in conn.execute(_EXPIRED, {"keep": keep}).fetchall()]
    for job_id in expired:
        with conn.transaction():
            conn.execute("DELETE FROM import_before_images WHERE job_id = %s", (job_id,))
            conn.execute("UPDATE import_jobs SET revertible = false WHERE id = %s", (job_id,))
    return expired
