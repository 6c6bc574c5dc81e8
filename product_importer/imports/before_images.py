"""Before-images: what an import changed, recorded so that it can be reverted.

The engine records them in the transaction of each batch it commits, set-based (never a
row at a time), so a crash mid-import leaves exactly the before-images of the batches
that committed:
- for each product a batch updates, its values before (one INSERT ... SELECT per batch,
  taken under a row lock just before the upsert);
- for the products a batch creates, one row per batch: the range of their ids and the
  batch transaction's now(), their `created_at` (a product made in that id range by
  anyone else has another `created_at`). A fresh import so costs one small row per batch,
  and a revert deletes them by primary-key range;
- for the products missing from the file that the import deactivated or deleted, their
  values before.

A before-image keeps the product's `updated_at` too: a revert gives it back with the values,
so that after reverting a later import, reverting an earlier one finds its products as it
left them (no conflict).

Changed since? Each before-image keeps `applied_at`, the `updated_at` the import gave the
product (the batch transaction's now(); for a created product, its `created_at`). Every
writer of products (imports, the product form and the API, a revert) sets
`updated_at = now()`, so a product whose `updated_at` differs at revert time was changed
again since, or deleted and made again: a timestamp comparison, exact and free to record,
rather than a hash of the values, which would cost every batch a hash per row and would
have to normalise values exactly as the table stores them.
"""

from __future__ import annotations

from datetime import timedelta

import psycopg
from psycopg import sql

from product_importer.settings import settings

# Over `import_before_images b LEFT JOIN products p ON lower(p.sku) = b.key`: the product
# was changed since the import (an updated one whose updated_at is not the import's, or
# that is gone; a deleted one that exists again).
CHANGED_SINCE = """CASE WHEN b.change = 'd' THEN p.id IS NOT NULL
    ELSE p.id IS NULL OR p.updated_at IS DISTINCT FROM b.applied_at END"""
# Over `import_created_ranges r`: the products the batch created that are still there
# (`p`), and (CREATED_CHANGED) those of them changed since.
CREATED_BY = """products p ON p.id BETWEEN r.first_id AND r.last_id
    AND p.created_at = r.applied_at"""
CREATED_CHANGED = "p.updated_at <> p.created_at"

_COLUMNS = "job_id, seq, key, change, sku, name, description, price, active, updated_at, applied_at"

# The products a batch is about to update, locked until the batch commits so that what
# is recorded is what the upsert overwrites. The condition is the upsert's own.
_RECORD_UPDATES = """
INSERT INTO import_before_images ({columns})
SELECT %(job_id)s, d.seq, d.key, 'u', p.sku, p.name, p.description, p.price, p.active,
       p.updated_at, now()
FROM {dedup} d JOIN products p ON lower(p.sku) = d.key
WHERE d.seq > %(first)s::integer AND d.seq <= %(last)s::integer AND NOT d.same
    AND (d.known OR %(all)s)
    AND (p.sku, p.name, p.description, p.price, p.active)
        IS DISTINCT FROM (d.sku, d.name, d.description, d.price, d.active)
FOR UPDATE OF p
"""

# A batch's insert (`written`, answering each row's `id` and whether it was `inserted`)
# and the id range of the products it created, in one statement; it answers how many rows
# were inserted and how many written in all. A batch may insert in two statements (an
# upsert inserts a product deleted since the file was deduplicated): the range grows.
_RECORD_CREATED = """
WITH written AS ({write}),
recorded AS (
    INSERT INTO import_created_ranges AS r (job_id, batch, first_id, last_id, created,
                                            applied_at)
    SELECT %(job_id)s, %(batch)s, min(id), max(id), count(*), now()
    FROM written WHERE inserted HAVING count(*) > 0
    ON CONFLICT (job_id, batch) DO UPDATE SET
        first_id = least(r.first_id, excluded.first_id),
        last_id = greatest(r.last_id, excluded.last_id),
        created = r.created + excluded.created
)
SELECT count(*) FILTER (WHERE inserted), count(*) FROM written
"""

# The catalog's products missing from the file, deactivated or deleted with their
# before-images; numbered after the file's products.
_DEACTIVATE_MISSING = """
WITH changed AS (
    UPDATE products q SET active = false, updated_at = now()
    FROM (SELECT p.id, p.updated_at FROM products p WHERE p.active AND {missing}) was
    WHERE q.id = was.id AND q.active
    RETURNING q.sku, q.name, q.description, q.price, was.updated_at
)
INSERT INTO import_before_images ({columns})
SELECT %(job_id)s, %(after)s::integer + row_number() OVER (ORDER BY lower(sku)),
       lower(sku), 'u', sku, name, description, price, true, updated_at, now()
FROM changed
"""
_DELETE_MISSING = """
WITH gone AS (
    DELETE FROM products p WHERE {missing}
    RETURNING p.sku, p.name, p.description, p.price, p.active, p.updated_at
)
INSERT INTO import_before_images ({columns})
SELECT %(job_id)s, %(after)s::integer + row_number() OVER (ORDER BY lower(sku)),
       lower(sku), 'd', sku, name, description, price, active, updated_at, now()
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
    """Run a batch's INSERT (`write`, ending in RETURNING id, inserted) and record the
    products it created; answer (inserted, written)."""
    statement = sql.SQL(_RECORD_CREATED).format(write=sql.SQL(write).format(dedup=dedup))
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
            conn.execute("DELETE FROM import_created_ranges WHERE job_id = %s", (job_id,))
            conn.execute("UPDATE import_jobs SET revertible = false WHERE id = %s", (job_id,))
    return expired
