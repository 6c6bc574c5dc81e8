"""Applying a staged import: deduplicate by lower(sku), then upsert in committed batches.

Every batch commits the products it changed together with the job's counts and its own
number in `done_batches`, so a worker that dies loses nothing: the next run applies the
batches not yet committed, and no row is applied twice. Counts speak of distinct
products: created + updated + unchanged = distinct valid SKUs in the file.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import psycopg
from psycopg import sql

from product_importer import db
from product_importer.imports import deferred_indexes
from product_importer.imports.apply_order import wait_for_turn
from product_importer.imports.before_images import (
    record_updates,
    remove_expired,
    settle_missing_recorded,
    write_recording_created,
)
from product_importer.imports.kind import IMPORTS
from product_importer.imports.lifecycle import announce, fetch_job, finish_import
from product_importer.imports.options import ImportMode, MissingChoice
from product_importer.imports.pending_uploads import expire_pending_uploads
from product_importer.imports.preview import (
    expire_due_previews,
    expiry_due,
    rest_as_preview,
    schedule_expiry,
)
from product_importer.imports.tables import (
    dedup_table,
    drop_job_tables,
    missing_from_file,
    staging_table,
)
from product_importer.jobs.batch_pool import BatchPool
from product_importer.jobs.rate import RateClock
from product_importer.models import ImportJob, JobStage, JobStatus
from product_importer.settings import settings

log = logging.getLogger(__name__)


# A batch is two statements. Products that did not exist when the file was deduplicated
# are inserted plainly (much cheaper than ON CONFLICT's speculative insertion); the
# others are upserted, written only where they differ. Should a new SKU have appeared
# meanwhile, the plain insert fails on the unique index and the batch upserts everything.
_INSERT_NEW = """
INSERT INTO products (sku, name, description, price, active)
SELECT sku, name, description, price, active FROM {dedup}
WHERE seq > %(first)s::integer AND seq <= %(last)s::integer AND NOT known ORDER BY seq
RETURNING id, true AS inserted
"""
_UPSERT = """
INSERT INTO products AS p (sku, name, description, price, active)
SELECT sku, name, description, price, active FROM {dedup}
WHERE seq > %(first)s::integer AND seq <= %(last)s::integer AND NOT same
    AND (known OR %(all)s) ORDER BY seq
ON CONFLICT ((lower(sku))) DO UPDATE SET
    sku = excluded.sku, name = excluded.name, description = excluded.description,
    price = excluded.price, active = excluded.active, updated_at = now()
WHERE (p.sku, p.name, p.description, p.price, p.active)
    IS DISTINCT FROM (excluded.sku, excluded.name, excluded.description,
                      excluded.price, excluded.active)
RETURNING p.id, (xmax = 0) AS inserted
"""
# Create only: known SKUs are left out of the batch (skipped, counted); should one have
# appeared since the file was deduplicated, it is skipped too.
_INSERT_NEW_SKIP_TAKEN = """
INSERT INTO products (sku, name, description, price, active)
SELECT sku, name, description, price, active FROM {dedup}
WHERE seq > %(first)s::integer AND seq <= %(last)s::integer AND NOT known ORDER BY seq
ON CONFLICT ((lower(sku))) DO NOTHING
RETURNING id, true AS inserted
"""
# Update only: known SKUs are updated where they differ; unknown ones are counted, never
# inserted (a plain UPDATE: a product deleted meanwhile is not brought back).
_UPDATE_KNOWN = """
WITH changed AS (
    UPDATE products p SET sku = d.sku, name = d.name, description = d.description,
        price = d.price, active = d.active, updated_at = now()
    FROM {dedup} d
    WHERE d.seq > %(first)s::integer AND d.seq <= %(last)s::integer AND d.known
        AND NOT d.same AND lower(p.sku) = d.key
        AND (p.sku, p.name, p.description, p.price, p.active)
            IS DISTINCT FROM (d.sku, d.name, d.description, d.price, d.active)
    RETURNING 1
)
SELECT (SELECT count(*) FROM changed),
       (SELECT count(*) FROM {dedup}
        WHERE seq > %(first)s::integer AND seq <= %(last)s::integer AND NOT known)
"""


# Skipped rows go to the error report; the others are deduplicated (one row per
# lower(sku), the file's last occurrence winning), numbered in key order for the batches,
# and marked `same` when the stored product already equals them, so an unchanged row
# costs a merge-join step instead of an upsert and a row lock.
_RECORD_ERRORS = """
INSERT INTO import_row_errors (job_id, line, sku, reason, cells)
SELECT %(job_id)s, line, sku, reason, cells FROM {staging} WHERE reason IS NOT NULL
"""
_DEDUPLICATE = """
CREATE UNLOGGED TABLE {dedup} AS
SELECT * FROM (
    SELECT row_number() OVER w::integer AS seq, d.key, d.sku, d.name, d.description,
           d.price, d.active,
           p.sku IS NOT NULL AS known,
           coalesce((p.sku, p.name, p.description, p.price, p.active)
               IS NOT DISTINCT FROM (d.sku, d.name, d.description, d.price, d.active), false)
               AS same,
           lead(d.key) OVER w IS NULL AS last
    FROM (
        SELECT DISTINCT ON (lower(sku)) lower(sku) AS key, sku, name,
               coalesce(description, '') AS description, price, active
        FROM {staging} WHERE reason IS NULL
        ORDER BY lower(sku), line DESC
    ) d
    LEFT JOIN products p ON lower(p.sku) = d.key
    WINDOW w AS (ORDER BY d.key)
) numbered
-- Unchanged products need no write: only their numbers are kept (the last row stays so
-- that max(seq) is the number of distinct products). An import that deactivates or
-- deletes the products missing from its file keeps every key, to tell them apart.
WHERE NOT same OR last OR %(keep_all)s
"""
# The apply connections' session. Each batch commits its checkpoint with its rows, so a
# commit lost in a server crash is simply redone on resume: no need to wait for every WAL
# flush. GIN settings stay at the server's defaults: the trigram indexes (migration 0004)
# cost an import the extraction of each new row's trigrams and writing them to the
# index's pending list, not the merges of that list into the index, so merging in bigger
# slices (gin_pending_list_limit and work_mem of 16-256 MB were measured) used as much
# server CPU, gained nothing beyond the noise in time, and made searches during an import
# scan up to that much pending list. What is left pending at the end is merged by
# flush_pending_index_entries.
APPLY_SESSION_SETTINGS = ("SET synchronous_commit = off",)
# Every GIN index of products (the trigram ones of 0004; none without pg_trgm).
_GIN_INDEXES = """
SELECT c.oid::regclass::text FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_am am ON am.oid = c.relam
WHERE i.indrelid = 'products'::regclass AND am.amname = 'gin'
ORDER BY 1
"""
# A pending list (4 MB by default, more if an administrator raised it) merged in one
# sorted pass rather than several.
_FLUSH_MAINTENANCE_WORK_MEM = "SET LOCAL maintenance_work_mem = '128MB'"

# Sort a 500,000-row file in memory, and join it to products in key order (both sides
# come sorted: the dedupe sort and the lower(sku) index) rather than hashing either.
_DEDUPLICATE_SETTINGS = (
    "SET LOCAL work_mem = '256MB'",
    "SET LOCAL enable_hashjoin = off",
    "SET LOCAL enable_nestloop = off",
    "SET LOCAL jit = off",
)


class StagedRowsLost(RuntimeError):
    """The staging table is gone or empty although the upload staged rows."""


def _deduplicate(
    conn: psycopg.Connection, job: ImportJob, batch_size: int, *, keep_staging: bool = False
) -> ImportJob:
    """The set-based dedupe step: errors recorded, one row per lower(sku) marked new,
    changed or unchanged against the catalog as it is now. A preview keeps the staged rows,
    so that Apply deduplicates again against the catalog of that moment."""
    started = time.monotonic()
    job_id = int(job.id or 0)
    staging, dedup = staging_table(job_id), dedup_table(job_id)
    with conn.transaction():
        exists = db.scalar(conn, "SELECT to_regclass(%s) IS NOT NULL", (staging.as_string(conn),))
        has_rows = exists and db.scalar(
            conn, sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(staging)
        )
        if job.total_rows and not has_rows:
            raise StagedRowsLost(
                "the staged rows of this import were lost (was the database restarted?): "
                "upload the file again"
            )
        for setting in _DEDUPLICATE_SETTINGS:
            conn.execute(setting)
        conn.execute("DELETE FROM import_row_errors WHERE job_id = %s", (job_id,))
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(dedup))
        skipped = conn.execute(
            sql.SQL(_RECORD_ERRORS).format(staging=staging), {"job_id": job_id}
        ).rowcount
        conn.execute(
            sql.SQL(_DEDUPLICATE).format(dedup=dedup, staging=staging),
            {"keep_all": MissingChoice(job.missing) != MissingChoice.leave},
        )
        conn.execute(sql.SQL("CREATE UNIQUE INDEX ON {} (seq)").format(dedup))
        products = db.scalar(conn, sql.SQL("SELECT coalesce(max(seq), 0) FROM {}").format(dedup))
        if not keep_staging:
            conn.execute(sql.SQL("DROP TABLE {}").format(staging))
        updated = fetch_job(
            conn,
            # Skipped rows and collapsed duplicates are done once deduplicated.
            """UPDATE import_jobs SET stage = %s, skipped = %s, distinct_rows = %s,
                   processed_rows = total_rows - %s, batch_size = %s, done_batches = '{}',
                   timings = timings || jsonb_build_object('dedupe_s', %s::float)
               WHERE id = %s RETURNING *""",
            (
                (JobStage.deduplicating if keep_staging else JobStage.applying).value,
                skipped,
                products,
                products,
                batch_size,
                round(time.monotonic() - started, 3),
                job_id,
            ),
        )
    assert updated is not None
    return updated


# The dedup rows a mode writes.
_WRITTEN = {
    ImportMode.create_update: "NOT same",
    ImportMode.create_only: "NOT known",
    ImportMode.update_only: "known AND NOT same",
}


class _Stop(Exception):
    """Ends a batch transaction without applying it (the job was cancelled or removed)."""


class _AlreadyApplied(Exception):
    """Rolls back a batch another run committed first; the others go on."""


@dataclass
class _BatchCounts:
    created: int = 0
    updated: int = 0
    skipped_existing: int = 0
    skipped_unknown: int = 0


def _write_batch(
    conn: psycopg.Connection, dedup: sql.Identifier, mode: ImportMode, bounds: dict, products: int
) -> _BatchCounts:
    """Write one batch as the import's mode says, all in SQL; answer its counts."""
    if mode == ImportMode.update_only:
        record_updates(conn, dedup, bounds)
        row = conn.execute(sql.SQL(_UPDATE_KNOWN).format(dedup=dedup), bounds).fetchone()
        assert row is not None
        return _BatchCounts(updated=int(row[0]), skipped_unknown=int(row[1]))
    try:
        with conn.transaction():
            created, _ = write_recording_created(conn, _INSERT_NEW, dedup, bounds)
    except psycopg.errors.UniqueViolation:
        created, bounds["all"] = 0, True
    if mode == ImportMode.create_only:
        if bounds["all"]:
            created, _ = write_recording_created(conn, _INSERT_NEW_SKIP_TAKEN, dedup, bounds)
        return _BatchCounts(created=created, skipped_existing=products - created)
    # After the plain insert: should it have failed, the upsert takes every row.
    record_updates(conn, dedup, bounds)
    inserted, upserted = write_recording_created(conn, _UPSERT, dedup, bounds)
    return _BatchCounts(created=created + inserted, updated=upserted - inserted)


def _apply_batch(
    conn: psycopg.Connection,
    job_id: int,
    number: int,
    size: int,
    distinct: int,
    mode: ImportMode = ImportMode.create_update,
) -> ImportJob:
    """Write batch `number` and record it done, with its counts, in one transaction."""
    with conn.transaction():
        cancel = conn.execute(
            "SELECT cancel_requested FROM import_jobs WHERE id = %s", (job_id,)
        ).fetchone()
        if cancel is None or cancel[0]:
            raise _Stop("gone" if cancel is None else "cancelled")
        dedup = dedup_table(job_id)
        bounds = {
            "job_id": job_id,
            "first": (number - 1) * size,
            "last": number * size,
            "all": False,
            "batch": number,
        }
        products = min(number * size, distinct) - (number - 1) * size
        n = _write_batch(conn, dedup, mode, bounds, products)
        unchanged = products - n.created - n.updated - n.skipped_existing - n.skipped_unknown
        moved = fetch_job(
            conn,
            # The guard makes a batch count once even if two runs ever raced on it.
            """UPDATE import_jobs SET done_batches = done_batches || %s::integer,
                   processed_rows = processed_rows + %s,
                   created = created + %s, updated = updated + %s, unchanged = unchanged + %s,
                   skipped_existing = skipped_existing + %s,
                   skipped_unknown = skipped_unknown + %s
               WHERE id = %s AND NOT %s::integer = ANY(done_batches) RETURNING *""",
            (
                number,
                products,
                n.created,
                n.updated,
                unchanged,
                n.skipped_existing,
                n.skipped_unknown,
                job_id,
                number,
            ),
        )
        if moved is None:
            raise _AlreadyApplied(number)
    return moved


class _BatchRunner(BatchPool):
    """Applies the batches a job still needs over a few connections at once."""

    def __init__(self, job: ImportJob, clock: RateClock) -> None:
        self.job_id = int(job.id or 0)
        self.size = job.batch_size
        self.distinct = job.distinct_rows
        self.mode = ImportMode(job.mode)
        total = -(-job.distinct_rows // self.size) if self.size else 0
        super().__init__(n for n in range(1, total + 1) if n not in set(job.done_batches))
        self.clock = clock
        self.published = job.processed_rows

    def _announce(self, job: ImportJob) -> None:
        # Under the lock, so watchers never see the counts go back.
        with self.lock:
            if job.processed_rows < self.published:
                return  # a later batch was already announced
            self.published = job.processed_rows
            announce(job, self.clock)

    def prepare(self, conn: psycopg.Connection) -> None:
        for setting in APPLY_SESSION_SETTINGS:
            conn.execute(setting)

    def run_batch(self, conn: psycopg.Connection, number: int) -> None:
        try:
            self._announce(
                _apply_batch(conn, self.job_id, number, self.size, self.distinct, self.mode)
            )
        except _AlreadyApplied:
            pass
        except _Stop as stop:
            self.stop(str(stop))


def _run_once(job_id: int, batch_size: int) -> ImportJob | None:
    with db.connect(autocommit=True) as conn:
        # Each batch commits its checkpoint with its rows, so a commit lost in a server
        # crash is simply redone on resume: no need to wait for every WAL flush.
        conn.execute("SET synchronous_commit = off")
        if not IMPORTS.claim(conn, job_id):
            log.info("import %s is being applied by another worker", job_id)
            return None
        job = IMPORTS.select(conn, job_id)
        if job is None:
            log.warning("import %s does not exist", job_id)
            return None
        if JobStatus(job.status).is_terminal:
            drop_job_tables(conn, job_id)
            return job
        # Every import's run also ends the previews left too long (their own delayed
        # message does it on time; this covers one that was lost), and drops the uploads
        # kept for a mapping past their time (each keep and use drops them too).
        expire_due_previews(conn)
        with conn.transaction():
            expire_pending_uploads(conn)
        # ...and removes the before-images older than the retention (REVERT_DAYS).
        remove_expired(conn)
        if job.stage == JobStage.previewed:
            # The preview's delayed message: its time is up, or it came early (a
            # redelivery) and is sent again for the time left.
            left_ms = expiry_due(conn, job_id)
            if left_ms:
                schedule_expiry(job_id, left_ms)
            return IMPORTS.select(conn, job_id)
        if job.dry_run and job.apply_order is None:
            return _preview(conn, job, batch_size)
        come_back_ms = wait_for_turn(conn, job_id)
        if come_back_ms is not None:
            log.info(
                "import %s: earlier imports have not ended; again in %s ms", job_id, come_back_ms
            )
            IMPORTS.enqueue(job_id, delay_ms=come_back_ms)
            return None
        if job.status == JobStatus.pending:
            job = fetch_job(
                conn,
                """UPDATE import_jobs SET status = 'processing',
                       stage = CASE WHEN stage = %s THEN %s ELSE stage END,
                       started_at = coalesce(started_at, clock_timestamp())
                   WHERE id = %s AND status = 'pending' RETURNING *""",
                (JobStage.queued.value, JobStage.deduplicating.value, job_id),
            ) or IMPORTS.select(conn, job_id)
            assert job is not None
            if JobStatus(job.status).is_terminal:
                return job
        announce(job)
        if job.stage in (JobStage.queued, JobStage.deduplicating):
            job = _deduplicate(conn, job, batch_size)
        _set_indexes_aside(conn, job)
        clock = RateClock(job.processed_rows, time.monotonic())
        applied_from = time.monotonic()
        outcome = _BatchRunner(job, clock).run(settings.import_apply_connections) or "done"
        if outcome == "gone":
            return None
        conn.execute(
            """UPDATE import_jobs SET timings = timings || jsonb_build_object('apply_s', %s::float)
               WHERE id = %s""",
            (round(time.monotonic() - applied_from, 3), job_id),
        )
        if outcome == "done":
            _settle_missing(conn, job)
        status = JobStatus.cancelled if outcome == "cancelled" else JobStatus.completed
        job = finish_import(conn, job_id, status, None)
        announce(job, clock)
        deferred_indexes.release(conn)
        if job.created or job.updated or job.deactivated or job.deleted:
            # Off the user's clock (the job has been announced finished) but before this
            # worker takes its next message, so searches do not go on scanning the list.
            _flush_after_import(conn, job_id)
        return job


def _set_indexes_aside(conn: psycopg.Connection, job: ImportJob) -> None:
    """Drop the search and sort indexes before the batches when the import writes most of
    the catalog (a resumed run decides again)."""
    if job.distinct_rows < settings.import_defer_indexes_min_rows:
        return  # cannot write enough: not worth counting
    started = time.monotonic()
    writes = db.scalar(
        conn,
        sql.SQL("SELECT count(*) FROM {} WHERE {}").format(
            dedup_table(int(job.id or 0)), sql.SQL(_WRITTEN[ImportMode(job.mode)])
        ),
    )
    dropped = deferred_indexes.set_aside(conn, int(writes))
    if dropped:
        conn.execute(
            """UPDATE import_jobs SET timings = timings || jsonb_build_object(
                   'indexes_set_aside_s', %s::float) WHERE id = %s""",
            (round(time.monotonic() - started, 3), int(job.id or 0)),
        )
        log.info("import %s: %s indexes set aside for a bulk build", job.id, len(dropped))


def _preview(conn: psycopg.Connection, job: ImportJob, batch_size: int) -> ImportJob | None:
    """A preview's run: the dedupe step alone (nothing written to the catalog), then the
    job rests, counted, until a person applies or discards it or its time is up."""
    job_id = int(job.id or 0)
    if job.status == JobStatus.pending:
        started = fetch_job(
            conn,
            """UPDATE import_jobs SET status = 'processing', stage = %s,
                   started_at = coalesce(started_at, clock_timestamp())
               WHERE id = %s AND status = 'pending' RETURNING *""",
            (JobStage.deduplicating.value, job_id),
        ) or IMPORTS.select(conn, job_id)
        if started is None or JobStatus(started.status).is_terminal:
            return started
        job = started
    announce(job)
    job = _deduplicate(conn, job, batch_size, keep_staging=True)
    rested = rest_as_preview(conn, job)
    announce(rested)
    if rested.stage == JobStage.previewed:
        schedule_expiry(job_id, int(settings.preview_ttl_minutes * 60_000))
    return rested


def _settle_missing(conn: psycopg.Connection, job: ImportJob) -> None:
    """Deactivate or delete the catalog's products missing from the file, once every batch
    is in, in one transaction with the count (done once: a resumed run skips it)."""
    choice = MissingChoice(job.missing)
    if choice == MissingChoice.leave:
        return
    job_id = int(job.id or 0)
    started = time.monotonic()
    delete = choice == MissingChoice.delete
    column = "deleted" if delete else "deactivated"
    with conn.transaction():
        done = db.scalar(
            conn,
            "SELECT timings ? 'missing_s' FROM import_jobs WHERE id = %s FOR UPDATE",
            (job_id,),
        )
        if done:
            return
        count = settle_missing_recorded(
            conn,
            missing_from_file(dedup_table(job_id)),
            delete=delete,
            job_id=job_id,
            after=job.distinct_rows,
        )
        conn.execute(
            sql.SQL(
                """UPDATE import_jobs SET {column} = %s, timings = timings
                       || jsonb_build_object('missing_s', %s::float) WHERE id = %s"""
            ).format(column=sql.Identifier(column)),
            (count, round(time.monotonic() - started, 3), job_id),
        )


def flush_pending_index_entries(conn: psycopg.Connection) -> int:
    """Merge the entries waiting in the pending lists of products' GIN indexes into the
    indexes, one short transaction per index; answer how many pending pages were emptied.
    Without GIN indexes (a server without pg_trgm) there is nothing to do."""
    emptied = 0
    for (index,) in conn.execute(_GIN_INDEXES).fetchall():
        with conn.transaction():
            conn.execute(_FLUSH_MAINTENANCE_WORK_MEM)
            row = conn.execute("SELECT gin_clean_pending_list(%s::regclass)", (index,)).fetchone()
            emptied += int(row[0]) if row else 0
    return emptied


def _flush_after_import(conn: psycopg.Connection, job_id: int) -> None:
    """Flush the pending lists an import filled; the job has ended already, so a failure
    here is only logged (the lists stay bounded by gin_pending_list_limit and the next
    autovacuum of products merges them)."""
    started = time.monotonic()
    try:
        pages = flush_pending_index_entries(conn)
        seconds = round(time.monotonic() - started, 3)
        conn.execute(
            """UPDATE import_jobs SET timings = timings || jsonb_build_object(
                   'index_flush_s', %s::float) WHERE id = %s""",
            (seconds, job_id),
        )
    except psycopg.Error as exc:
        log.warning("import %s: pending index entries not flushed: %s", job_id, exc)
        return
    log.debug(
        "import %s: %s pending index pages merged in %.2fs", job_id, pages, seconds
    )  # in timings


def apply_import(job_id: int, *, batch_size: int | None = None) -> ImportJob | None:
    """Run (or resume) a pending import to its end. Database errors propagate: the job's
    actor retries the transient ones (see jobs.actors), and a run resumes where the last
    one stopped."""
    return _run_once(job_id, batch_size or settings.import_batch_size)
