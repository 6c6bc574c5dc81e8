"""Products' search and sort indexes set aside while a big import writes, then built
again in bulk: an import that writes most of the catalog pays for its rows, not for eight
indexes updated row by row (three trigram GIN indexes and five sort indexes cost a fresh
500,000-row import about 6x the time of the rows alone; one bulk build of each afterwards
costs about half as much, and off the import's clock).

Never wrong meanwhile: every filter and sort reads the table itself while an index is
missing (only slower), so a product an import has committed is found at once. The unique
`lower(sku)` index, which the import itself needs, and the primary key always stay.

- `set_aside` (the import's connection, after its dedupe step): when the import will write
  at least `IMPORT_DEFER_INDEXES_MIN_ROWS` products and at least half of the catalog, the
  secondary indexes' definitions are recorded in `deferred_indexes`, then each index is
  dropped (`DROP INDEX CONCURRENTLY`: readers are never blocked). The connection keeps an
  advisory lock until the import ends, so that no rebuild starts under it.
- `rebuild` (the `rebuild_indexes` actor, sent when an import ends and when a worker
  boots): each recorded index is created again (`CREATE INDEX CONCURRENTLY`: writes go
  on meanwhile) and its record removed. An index whose build was interrupted (left
  INVALID) is dropped and built again. Nothing recorded: nothing to do.

A worker killed anywhere in between leaves records, never a lost definition: the next
rebuild finds them.
"""

from __future__ import annotations

import logging
import time

import psycopg
from psycopg import sql

from product_importer import advisory_locks, db
from product_importer.catalog_statistics import catalog_size, indexes_set_aside
from product_importer.settings import settings

log = logging.getLogger(__name__)

_KEY = (advisory_locks.DEFERRED_INDEXES, 1)
# Indexes of products besides the primary key and the unique key the import needs.
_SECONDARY = """
SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = 'products'::regclass AND NOT i.indisprimary AND NOT i.indisunique
ORDER BY 1
"""
# The quick builds first, so that most searches and sorts are fast again soonest: b-trees
# (a second or two each at 500,000 products), then the trigram GIN indexes from the
# narrowest column (the SKUs) to the widest (the descriptions: most of the catch-up).
_CHEAPEST_FIRST = """
SELECT d.name, d.definition FROM deferred_indexes d
ORDER BY d.definition LIKE '% USING gin %',
         (SELECT max(s.avg_width) FROM pg_stats s
          WHERE s.schemaname = 'public' AND s.tablename = 'products'
            AND d.definition ~ ('[(]' || s.attname || '[ ,)]')),
         d.name
"""
_ON_AN_EXPRESSION = """
SELECT i.indexprs IS NOT NULL FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relname = %s
"""
# Waiting this long for a reader to finish before dropping an index is enough: past it,
# that index stays (the import is then only slower).
_DROP_LOCK_TIMEOUT = "SET lock_timeout = '5s'"
# Bulk builds: sort in memory, in parallel where PostgreSQL can (btree).
_BUILD_SETTINGS = ("SET maintenance_work_mem = '256MB'", "SET lock_timeout = 0")


def worth_it(planned_writes: int, catalog_rows: int) -> bool:
    """Whether an import writing `planned_writes` products into a catalog of
    `catalog_rows` is better off building the indexes afterwards."""
    return (
        planned_writes >= settings.import_defer_indexes_min_rows
        and planned_writes * 2 >= catalog_rows + planned_writes
    )


def set_aside(conn: psycopg.Connection, planned_writes: int) -> list[str]:
    """Drop the secondary indexes for an import about to write `planned_writes` products,
    when that pays; answer the names dropped. `conn` (autocommit) holds the lock against
    rebuilds until `release`, or until it closes."""
    if not worth_it(planned_writes, catalog_size(conn)):
        return []
    if not db.scalar(conn, "SELECT pg_try_advisory_lock(%s, %s)", _KEY):
        return []  # a rebuild is running: this import keeps the indexes it finds
    indexes = conn.execute(_SECONDARY).fetchall()
    for name, definition in indexes:
        conn.execute(
            "INSERT INTO deferred_indexes (name, definition) VALUES (%s, %s)"
            " ON CONFLICT (name) DO NOTHING",
            (name, definition),
        )
    conn.execute(_DROP_LOCK_TIMEOUT)
    dropped = []
    for name, _definition in indexes:
        try:
            conn.execute(
                sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(sql.Identifier(name))
            )
            dropped.append(name)
        except psycopg.errors.LockNotAvailable:
            log.info("index %s kept: a reader held products past the lock timeout", name)
            conn.execute("DELETE FROM deferred_indexes WHERE name = %s", (name,))
    conn.execute("RESET lock_timeout")
    return dropped


def release(conn: psycopg.Connection) -> None:
    """The import that set the indexes aside has ended: a rebuild may start."""
    conn.execute("SELECT pg_advisory_unlock(%s, %s)", _KEY)


def build_order(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """The set-aside indexes (name, definition), quickest build first."""
    return [(name, definition) for name, definition in conn.execute(_CHEAPEST_FIRST)]


def _concurrent(definition: str) -> sql.SQL:
    # pg_get_indexdef writes "CREATE INDEX name ON public.products USING ...".
    assert definition.startswith("CREATE INDEX "), definition
    return sql.SQL(
        definition.replace("CREATE INDEX ", "CREATE INDEX CONCURRENTLY IF NOT EXISTS ", 1)
    )


def rebuild() -> int:
    """Build every set-aside index again; answer how many were built. Does nothing while
    an import that set them aside still writes (its end sends this again)."""
    with db.connect(autocommit=True) as conn:
        if not indexes_set_aside(conn) or not db.scalar(
            conn, "SELECT pg_try_advisory_lock(%s, %s)", _KEY
        ):
            return 0
        try:
            for setting in _BUILD_SETTINGS:
                conn.execute(setting)
            built = 0
            for name, definition in build_order(conn):
                started = time.monotonic()
                invalid = db.scalar(
                    conn,
                    """SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c
                       ON c.oid = i.indexrelid WHERE c.relname = %s AND NOT i.indisvalid)""",
                    (name,),
                )
                if invalid:  # an interrupted build
                    conn.execute(sql.SQL("DROP INDEX CONCURRENTLY {}").format(sql.Identifier(name)))
                conn.execute(_concurrent(definition))
                if db.scalar(conn, _ON_AN_EXPRESSION, (name,)):
                    # The planner knows nothing of an expression until it is analysed: a
                    # common word would be taken for rare and read match by match. Its
                    # statistics come before the index counts as built (the list uses
                    # the phrase indexes only once their records are gone).
                    conn.execute("ANALYZE products")
                conn.execute("DELETE FROM deferred_indexes WHERE name = %s", (name,))
                built += 1
                log.info("index %s built in %.1fs", name, time.monotonic() - started)
            if built:
                # What autovacuum would do soon after a big import, done now, while nobody
                # waits for it, rather than under the next import: the visibility map set
                # for the rows written (index-only scans of deep pages), and statistics
                # for the rows.
                conn.execute("VACUUM (ANALYZE) products")
            return built
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", _KEY)
