"""Reverting an import: a job of its own kind that takes back what the import applied.

From the import's before-images (imports/before_images.py), in batches of the import's
own numbering, each one transaction with its checkpoint (as the engine's batches, so a
worker that dies loses nothing and no batch is reverted twice):
- the products the import created are deleted;
- the products it updated (or deactivated) get back their values before it, and those
  it deleted (missing from its file) are made again;
- a product changed again since the import (its `updated_at` is not the one the import
  gave it, or it is gone, or it was made again) is a conflict: it is listed and left
  alone, unless the revert was asked to restore conflicts too.

One revert per import; a cancelled or failed one is started again where it stopped.
Its end is recorded in one transaction with the import's `reverted_at` and one
`import.reverted` event with the counts.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import psycopg

from product_importer import advisory_locks, db
from product_importer.events import EventType, record_event
from product_importer.events.payloads import RevertedData
from product_importer.imports import deferred_indexes
from product_importer.imports.before_images import (
    CHANGED_SINCE,
    CREATED_BY,
    CREATED_CHANGED,
    remove_expired,
)
from product_importer.imports.kind import IMPORTS
from product_importer.jobs.batch_pool import BatchPool
from product_importer.jobs.kind import JobKind
from product_importer.jobs.snapshot import JobSnapshot, percent_done
from product_importer.jobs.store import JobNotFound, fetch_rows
from product_importer.models import ImportJob, ImportRevert, JobStatus
from product_importer.settings import settings

log = logging.getLogger(__name__)


class RevertRefused(RuntimeError):
    """The import cannot be reverted (now, or at all); the message says why."""


class RevertSnapshot(JobSnapshot):
    """What a watcher of a revert needs to draw it."""

    import_id: int = 0
    restore_conflicts: bool = False
    total: int = 0
    processed: int = 0
    deleted: int = 0
    restored: int = 0
    conflicts_left: int = 0
    conflicts_restored: int = 0


def revert_snapshot(job: ImportRevert) -> RevertSnapshot:
    return RevertSnapshot(
        job_id=int(job.id or 0),
        status=JobStatus(job.status),
        percent=percent_done(job.status, job.processed, job.total),
        error=job.error,
        import_id=job.import_id,
        restore_conflicts=job.restore_conflicts,
        total=job.total,
        processed=job.processed,
        deleted=job.deleted,
        restored=job.restored,
        conflicts_left=job.conflicts_left,
        conflicts_restored=job.conflicts_restored,
    )


REVERTS: JobKind[ImportRevert, RevertSnapshot] = JobKind(
    name="import_revert",
    label="revert",
    model=ImportRevert,
    snapshot_type=RevertSnapshot,
    snapshot_of=revert_snapshot,
    lock_class=advisory_locks.IMPORT_REVERT_JOB,
    actor_name="run_import_revert",
    queue_name="imports",
)

_RANGE = "b.job_id = %(import_id)s AND b.seq > %(first)s::integer AND b.seq <= %(last)s::integer"
_CREATED_RANGE = "r.job_id = %(import_id)s AND r.batch = %(batch)s::integer"
# The batch's products, locked (in id order) until the batch commits: whether each one
# is a conflict cannot change between the statements below.
_LOCK_CHANGED = f"""
SELECT count(*) FROM (
    SELECT 1 FROM import_before_images b JOIN products p ON lower(p.sku) = b.key
    WHERE {_RANGE} ORDER BY p.id FOR UPDATE OF p
) locked
"""
_LOCK_CREATED = f"""
SELECT count(*) FROM (
    SELECT 1 FROM import_created_ranges r JOIN {CREATED_BY}
    WHERE {_CREATED_RANGE} ORDER BY p.id FOR UPDATE OF p
) locked
"""
# The conflicts of the batch, recorded; answers the batch's size and its conflicts.
_RECORD_CONFLICTS = f"""
WITH batch AS (
    SELECT b.seq, b.key, b.change, {CHANGED_SINCE} AS conflict
    FROM import_before_images b LEFT JOIN products p ON lower(p.sku) = b.key
    WHERE {_RANGE}
    UNION ALL
    SELECT NULL, lower(p.sku), 'c', {CREATED_CHANGED}
    FROM import_created_ranges r JOIN {CREATED_BY} WHERE {_CREATED_RANGE}
), recorded AS (
    INSERT INTO import_revert_conflicts (revert_id, key, change, seq, restored)
    SELECT %(revert_id)s, key, change, seq, %(restore)s FROM batch WHERE conflict
    RETURNING 1
)
SELECT (SELECT count(*) FROM batch WHERE change <> 'c')
       + (SELECT coalesce(sum(created), 0) FROM import_created_ranges r
          WHERE {_CREATED_RANGE}),
       (SELECT count(*) FROM recorded)
"""
_DELETE_CREATED = f"""
WITH gone AS (
    DELETE FROM products p USING import_created_ranges r
    WHERE {_CREATED_RANGE} AND p.id BETWEEN r.first_id AND r.last_id
        AND p.created_at = r.applied_at AND (%(restore)s OR {CREATED_CHANGED.replace("<>", "=")})
    RETURNING {CREATED_CHANGED.replace("<>", "=")} AS clean
)
SELECT count(*) FILTER (WHERE clean) FROM gone
"""
_RESTORE_EXISTING = f"""
WITH put AS (
    UPDATE products p SET sku = x.sku, name = x.name, description = x.description,
        price = x.price, active = x.active, updated_at = coalesce(x.updated_at, now())
    FROM (
        SELECT b.*, q.id AS pid, q.updated_at AS was
        FROM import_before_images b JOIN products q ON lower(q.sku) = b.key
        WHERE {_RANGE}
    ) x
    WHERE p.id = x.pid AND (%(restore)s OR (x.change = 'u' AND x.was = x.applied_at))
    RETURNING x.change = 'u' AND x.was = x.applied_at AS clean
)
SELECT count(*) FILTER (WHERE clean) FROM put
"""
# Deleted by the import and not made again since: made again (`d`); updated by it and
# deleted since: made again only when conflicts are restored (`u`).
_RESTORE_MISSING = f"""
INSERT INTO products (sku, name, description, price, active, updated_at)
SELECT b.sku, b.name, b.description, b.price, b.active, coalesce(b.updated_at, now())
FROM import_before_images b
WHERE {_RANGE} AND b.change = %(change)s
    AND NOT EXISTS (SELECT 1 FROM products q WHERE lower(q.sku) = b.key)
ORDER BY b.seq
ON CONFLICT ((lower(sku))) DO NOTHING
"""
# Each batch joins a few thousand before-images to products by key: by the key index,
# never by hashing the whole catalog.
_BATCH_SETTINGS = (
    "SET LOCAL enable_hashjoin = off",
    "SET LOCAL enable_mergejoin = off",
    "SET LOCAL jit = off",
)


def revert_of(import_id: int) -> ImportRevert | None:
    """The import's revert, if one was asked for."""
    with db.pooled_connection() as conn:
        return REVERTS.fetch(
            conn, "SELECT * FROM import_reverts WHERE import_id = %s", (import_id,)
        )


def _check_revertible(job: ImportJob, *, too_old: bool) -> None:
    """Raise RevertRefused, saying why, unless the import can be reverted now."""
    name = f"import {job.id}"
    if job.dry_run and job.apply_order is None:
        raise RevertRefused(f"{name} is a preview that was never applied: nothing to revert")
    if not JobStatus(job.status).is_terminal:
        raise RevertRefused(f"{name} has not ended yet: wait for it or cancel it first")
    if too_old:
        raise RevertRefused(
            f"{name} ended more than {settings.revert_days:g} days ago (REVERT_DAYS): what "
            "it changed is no longer kept, so it cannot be reverted"
        )
    if not job.revertible:
        raise RevertRefused(
            f"{name} was made before imports recorded what they change: it cannot be reverted"
        )


def reverts_of(import_ids: list[int]) -> dict[int, ImportRevert]:
    """The reverts of these imports, by import id (those that have one)."""
    with db.pooled_connection() as conn:
        rows = fetch_rows(
            conn,
            ImportRevert,
            "SELECT * FROM import_reverts WHERE import_id = ANY(%s)",
            (import_ids,),
        )
    return {row.import_id: row for row in rows}


def request_revert(import_id: int, *, restore_conflicts: bool = False) -> ImportRevert:
    """Queue the revert of an import and answer its job. A revert cancelled or failed
    before is started again (from where it stopped). Raises JobNotFound, RevertRefused
    (not revertible, or being or already reverted)."""
    with db.pooled_connection() as conn:
        job = IMPORTS.fetch(
            conn, "SELECT * FROM import_jobs WHERE id = %s FOR UPDATE", (import_id,)
        )
        if job is None:
            raise JobNotFound(IMPORTS.label, import_id)
        existing = REVERTS.fetch(
            conn, "SELECT * FROM import_reverts WHERE import_id = %s FOR UPDATE", (import_id,)
        )
        if existing is not None and existing.status == JobStatus.completed:
            raise RevertRefused(f"import {import_id} is already reverted (revert {existing.id})")
        if existing is not None and not JobStatus(existing.status).is_terminal:
            raise RevertRefused(
                f"import {import_id} is being reverted already (revert {existing.id})"
            )
        too_old = db.scalar(
            conn,
            "SELECT coalesce(%s < now() - %s, false)",
            (job.finished_at, timedelta(days=settings.revert_days)),
        )
        _check_revertible(job, too_old=bool(too_old))
        if existing is None:
            revert = REVERTS.fetch(
                conn,
                """INSERT INTO import_reverts (import_id, restore_conflicts)
                   VALUES (%s, %s) RETURNING *""",
                (import_id, restore_conflicts),
            )
        else:
            revert = REVERTS.fetch(
                conn,
                """UPDATE import_reverts SET status = 'pending', restore_conflicts = %s,
                       cancel_requested = false, error = NULL, finished_at = NULL
                   WHERE id = %s RETURNING *""",
                (restore_conflicts, existing.id),
            )
        conn.commit()
    assert revert is not None and revert.id is not None
    REVERTS.announce(revert_snapshot(revert))
    try:
        REVERTS.enqueue(revert.id)
    except Exception as exc:  # the broker is down: the job must not wait forever
        return fail_revert(revert.id, f"could not queue the revert: {exc}") or revert
    return revert


def cancel_revert(import_id: int) -> ImportRevert:
    """Ask the import's revert to stop at its next batch (batches reverted stay so; asking
    for the revert again goes on from there). Raises JobNotFound, RevertRefused."""
    with db.pooled_connection() as conn:
        revert = REVERTS.fetch(
            conn, "SELECT * FROM import_reverts WHERE import_id = %s FOR UPDATE", (import_id,)
        )
        if revert is None:
            raise JobNotFound(REVERTS.label, import_id)
        if JobStatus(revert.status).is_terminal:
            raise RevertRefused(f"revert {revert.id} is already {revert.status}")
        revert = REVERTS.fetch(
            conn,
            """UPDATE import_reverts SET cancel_requested = true,
                   status = CASE WHEN status = 'pending' THEN 'cancelled' ELSE status END,
                   finished_at = CASE WHEN status = 'pending' THEN clock_timestamp() END
               WHERE id = %s RETURNING *""",
            (revert.id,),
        )
        conn.commit()
    assert revert is not None
    REVERTS.announce(revert_snapshot(revert))
    return revert


def fail_revert(revert_id: int, error: str) -> ImportRevert | None:
    """Mark the revert failed (the batches it committed stay reverted)."""
    with db.pooled_connection() as conn:
        revert = REVERTS.fetch(
            conn,
            """UPDATE import_reverts SET status = 'failed', error = %s,
                   finished_at = clock_timestamp()
               WHERE id = %s AND status IN ('pending', 'processing') RETURNING *""",
            (error, revert_id),
        )
        conn.commit()
    if revert is not None:
        REVERTS.announce(revert_snapshot(revert))
    return revert


class _Stop(Exception):
    """Ends a batch transaction without reverting it (the revert was cancelled)."""


def _revert_batch(conn: psycopg.Connection, revert: ImportRevert, number: int) -> ImportRevert:
    """Revert batch `number` and record it done, with its counts, in one transaction."""
    with conn.transaction():
        cancel = conn.execute(
            "SELECT cancel_requested FROM import_reverts WHERE id = %s", (revert.id,)
        ).fetchone()
        if cancel is None or cancel[0]:
            raise _Stop()
        for setting in _BATCH_SETTINGS:
            conn.execute(setting)
        size = revert.batch_size
        params = {
            "import_id": revert.import_id,
            "revert_id": revert.id,
            "first": (number - 1) * size,
            "last": number * size,
            "batch": number,
            "restore": revert.restore_conflicts,
        }
        conn.execute(_LOCK_CHANGED, params)
        conn.execute(_LOCK_CREATED, params)
        row = conn.execute(_RECORD_CONFLICTS, params).fetchone()
        assert row is not None
        count, conflicts = int(row[0]), int(row[1])
        deleted = int(db.scalar(conn, _DELETE_CREATED, params) or 0)
        restored = int(db.scalar(conn, _RESTORE_EXISTING, params) or 0)
        restored += conn.execute(_RESTORE_MISSING, {**params, "change": "d"}).rowcount
        if revert.restore_conflicts:
            conn.execute(_RESTORE_MISSING, {**params, "change": "u"})
        moved = REVERTS.fetch(
            conn,
            """UPDATE import_reverts SET done_batches = done_batches || %(n)s::integer,
                   processed = processed + %(count)s, deleted = deleted + %(deleted)s,
                   restored = restored + %(restored)s,
                   conflicts_left = conflicts_left
                       + CASE WHEN %(restore)s THEN 0 ELSE %(conflicts)s END,
                   conflicts_restored = conflicts_restored
                       + CASE WHEN %(restore)s THEN %(conflicts)s ELSE 0 END
               WHERE id = %(id)s AND NOT %(n)s::integer = ANY(done_batches) RETURNING *""",
            {
                "n": number,
                "count": count,
                "deleted": deleted,
                "restored": restored,
                "conflicts": conflicts,
                "restore": revert.restore_conflicts,
                "id": revert.id,
            },
        )
        if moved is None:
            raise _Stop()  # another run committed it first (cannot happen under the claim)
    return moved


def _finish(conn: psycopg.Connection, revert: ImportRevert, status: JobStatus) -> ImportRevert:
    with conn.transaction():
        done = REVERTS.fetch(
            conn,
            """UPDATE import_reverts SET status = %s, finished_at = clock_timestamp()
               WHERE id = %s AND status = 'processing' RETURNING *""",
            (status.value, revert.id),
        )
        if done is not None and status == JobStatus.completed:
            job = IMPORTS.fetch(
                conn,
                """UPDATE import_jobs SET reverted_at = clock_timestamp() WHERE id = %s
                   RETURNING *""",
                (revert.import_id,),
            )
            record_event(
                conn,
                EventType.import_reverted,
                RevertedData(
                    import_id=done.import_id,
                    revert_id=int(done.id or 0),
                    filename=job.filename if job else "",
                    restore_conflicts=done.restore_conflicts,
                    deleted=done.deleted,
                    restored=done.restored,
                    conflicts_left=done.conflicts_left,
                    conflicts_restored=done.conflicts_restored,
                ),
            )
    return done or REVERTS.select(conn, int(revert.id or 0)) or revert


# Batches of the import's own size: revert batch n holds the products numbered
# (n-1) * size + 1 .. n * size (updated by the import's batch n, or missing from its file
# after its last batch) and those its batch n created.
_PLAN = """
UPDATE import_reverts r SET status = 'processing',
    started_at = coalesce(r.started_at, clock_timestamp()),
    batch_size = greatest(j.batch_size, 1),
    total = (SELECT count(*) FROM import_before_images WHERE job_id = j.id)
        + (SELECT coalesce(sum(created), 0) FROM import_created_ranges WHERE job_id = j.id),
    batches = greatest(
        ceil((SELECT coalesce(max(seq), 0) FROM import_before_images WHERE job_id = j.id)
             / greatest(j.batch_size, 1)::numeric)::integer,
        (SELECT coalesce(max(batch), 0) FROM import_created_ranges WHERE job_id = j.id)
    )
FROM import_jobs j
WHERE r.id = %s AND j.id = r.import_id AND r.status IN ('pending', 'processing')
RETURNING r.*
"""


class _BatchRunner(BatchPool):
    """Reverts the batches still to do over a few connections at once, as the engine
    applies them (each batch its own small transaction)."""

    def __init__(self, revert: ImportRevert) -> None:
        done = set(revert.done_batches)
        super().__init__(n for n in range(1, revert.batches + 1) if n not in done)
        self.revert = revert
        self.latest = revert

    def prepare(self, conn: psycopg.Connection) -> None:
        conn.execute("SET synchronous_commit = off")

    def run_batch(self, conn: psycopg.Connection, number: int) -> None:
        try:
            moved = _revert_batch(conn, self.revert, number)
        except _Stop:
            self.stop("cancelled")
            return
        with self.lock:  # watchers never see the counts go back
            if moved.processed >= self.latest.processed:
                self.latest = moved
                REVERTS.announce(revert_snapshot(moved))


def run_revert_job(revert_id: int) -> ImportRevert | None:
    """Run (or resume) a queued revert to its end. Database errors propagate (the actor
    retries the transient ones); a run resumes after the last committed batch."""
    with db.connect(autocommit=True) as conn:
        if not REVERTS.claim(conn, revert_id):
            log.info("revert %s is being run by another worker", revert_id)
            return None
        remove_expired(conn)
        revert = REVERTS.fetch(conn, _PLAN, (revert_id,))
        if revert is None:
            return REVERTS.select(conn, revert_id)
        REVERTS.announce(revert_snapshot(revert))
        started = time.monotonic()
        # A revert that writes most of the catalog sets its search and sort indexes
        # aside as a big import does (built again by the actor once it has ended).
        dropped = deferred_indexes.set_aside(conn, revert.total - revert.processed)
        if dropped:
            log.info("revert %s: %s indexes set aside for a bulk build", revert_id, len(dropped))
        try:
            stopped = _BatchRunner(revert).run(settings.import_apply_connections)
            status = JobStatus.cancelled if stopped else JobStatus.completed
            done = _finish(conn, revert, status)
        finally:
            deferred_indexes.release(conn)
        log.info(
            "revert %s of import %s %s in %.2fs: %s deleted, %s restored, %s conflicts left, "
            "%s conflicts restored",
            revert_id,
            done.import_id,
            done.status,
            time.monotonic() - started,
            done.deleted,
            done.restored,
            done.conflicts_left,
            done.conflicts_restored,
        )
        REVERTS.announce(revert_snapshot(done))
        return done
