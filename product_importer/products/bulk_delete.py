"""Delete every product in the background, with progress over the job mechanism.

All or nothing: the whole delete is one transaction that first locks the products table
against writers (readers go on seeing the catalog until the commit), deletes in id-range
batches, and commits the deletion together with the job's result and its
`products.bulk_deleted` event. A worker that dies mid-way leaves every product in place;
the redelivered message runs the delete again from the start.

Progress is real while it deletes: after each batch the worker publishes a snapshot and
writes the counts to the job's row over a second connection in autocommit. Written by
the delete's own transaction they would stay invisible until its commit, and a
watcher or an API client reading the row would see "0 of 0" until the very end. For the
same reason the job's times are `clock_timestamp()`, the moment itself: `now()` is the
start of the transaction, and the finish would be stamped at the start of the delete.
"""

from __future__ import annotations

import logging
import time

import psycopg

from product_importer import advisory_locks, db
from product_importer.catalog_guard import admit_bulk_delete
from product_importer.events import EventType, record_event
from product_importer.events.payloads import BulkDeletedData
from product_importer.jobs.kind import JobKind
from product_importer.jobs.snapshot import JobSnapshot, percent_done
from product_importer.models import BulkDeleteJob, JobStatus

log = logging.getLogger(__name__)

# Batches one delete is split into: enough for a smooth bar, few enough to cost nothing.
PROGRESS_STEPS = 20
# How long the delete waits for writers (a product being saved) to let go of the table.
LOCK_TIMEOUT = "30s"
_ACTIVE = "SELECT * FROM bulk_delete_jobs WHERE status IN ('pending', 'processing')"


class BulkDeleteSnapshot(JobSnapshot):
    """What a watcher of a delete-all needs to draw it."""

    total: int = 0
    deleted: int = 0


def bulk_delete_snapshot(job: BulkDeleteJob) -> BulkDeleteSnapshot:
    return BulkDeleteSnapshot(
        job_id=int(job.id or 0),
        status=JobStatus(job.status),
        total=job.total,
        deleted=job.deleted,
        percent=percent_done(job.status, job.deleted, job.total),
        error=job.error,
    )


BULK_DELETE: JobKind[BulkDeleteJob, BulkDeleteSnapshot] = JobKind(
    name="bulk_delete",
    label="bulk delete",
    model=BulkDeleteJob,
    snapshot_type=BulkDeleteSnapshot,
    snapshot_of=bulk_delete_snapshot,
    lock_class=advisory_locks.BULK_DELETE_JOB,
    actor_name="run_bulk_delete",
    queue_name="products",
)


def get_bulk_delete(job_id: int) -> BulkDeleteJob:
    """The job's row; raises JobNotFound."""
    return BULK_DELETE.get(job_id)


def active_bulk_delete() -> BulkDeleteJob | None:
    """The delete-all that waits or runs now, if any."""
    with db.pooled_connection() as conn:
        return BULK_DELETE.fetch(conn, _ACTIVE)


def request_bulk_delete() -> BulkDeleteJob:
    """Queue the deletion of every product and answer its job; a delete-all already waiting
    or running is answered instead of a second one. Raises CatalogBusy while an import is
    uploaded, waits or runs."""
    with db.pooled_connection() as conn:
        admit_bulk_delete(conn)
        running = BULK_DELETE.fetch(conn, _ACTIVE)
        if running is not None:
            return running
        job = BULK_DELETE.fetch(conn, "INSERT INTO bulk_delete_jobs DEFAULT VALUES RETURNING *")
        conn.commit()
    assert job is not None and job.id is not None
    BULK_DELETE.announce(bulk_delete_snapshot(job))
    try:
        BULK_DELETE.enqueue(job.id)
    except Exception as exc:  # the broker is down: the job must not wait forever
        return fail_bulk_delete(job.id, f"could not queue the bulk delete: {exc}") or job
    return job


def fail_bulk_delete(job_id: int, error: str) -> BulkDeleteJob | None:
    """Mark the job failed (nothing was deleted: its transaction rolled back)."""
    # Pooled: the request fails its job this way when the broker is down.
    with db.pooled_connection() as conn:
        job = BULK_DELETE.fetch(
            conn,
            """UPDATE bulk_delete_jobs SET status = 'failed', error = %s, deleted = 0,
                   finished_at = clock_timestamp()
               WHERE id = %s AND status IN ('pending', 'processing') RETURNING *""",
            (f"{error}; nothing was deleted", job_id),
        )
        conn.commit()
    if job is not None:
        BULK_DELETE.announce(bulk_delete_snapshot(job))
    return job


class _Progress:
    """Tells watchers (Redis) and readers of the job's row how far the delete is, from
    outside the delete's transaction."""

    def __init__(self, job_id: int, conn: psycopg.Connection) -> None:
        self.job_id, self.conn = job_id, conn

    def report(self, total: int, deleted: int) -> None:
        job = BULK_DELETE.fetch(
            self.conn,
            "UPDATE bulk_delete_jobs SET total = %s, deleted = %s WHERE id = %s RETURNING *",
            (total, deleted, self.job_id),
        )
        if job is not None:
            BULK_DELETE.announce(bulk_delete_snapshot(job))


def _delete_everything(
    conn: psycopg.Connection, job: BulkDeleteJob, progress: _Progress
) -> BulkDeleteJob:
    """The one transaction that deletes every product and records the outcome."""
    job_id = int(job.id or 0)
    with conn.transaction():
        conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        # Writers wait (a product saved meanwhile is deleted too, or saved after); readers
        # are not blocked and see the whole catalog until the commit.
        conn.execute("LOCK TABLE products IN EXCLUSIVE MODE")
        row = conn.execute("SELECT count(*), min(id), max(id) FROM products").fetchone()
        assert row is not None
        total, low, high = row
        progress.report(total, 0)
        deleted = 0
        if total:
            step = max(1, -(-(high - low + 1) // PROGRESS_STEPS))
            for start in range(low, high + 1, step):
                deleted += conn.execute(
                    "DELETE FROM products WHERE id >= %s AND id < %s", (start, start + step)
                ).rowcount
                progress.report(total, deleted)
        record_event(
            conn, EventType.products_bulk_deleted, BulkDeletedData(count=deleted, job_id=job_id)
        )
        done = BULK_DELETE.fetch(
            conn,
            """UPDATE bulk_delete_jobs SET status = 'completed', total = %s, deleted = %s,
                   finished_at = clock_timestamp() WHERE id = %s RETURNING *""",
            (total, deleted, job_id),
        )
    assert done is not None
    return done


def run_bulk_delete_job(job_id: int) -> BulkDeleteJob | None:
    """Run (or run again) a queued delete-all to its end. Database errors propagate (the
    actor retries the transient ones); nothing is deleted unless everything is."""
    with db.connect(autocommit=True) as conn, db.connect(autocommit=True) as progress_conn:
        if not BULK_DELETE.claim(conn, job_id):
            log.info("bulk delete %s is being run by another worker", job_id)
            return None
        job = BULK_DELETE.fetch(
            conn,
            """UPDATE bulk_delete_jobs SET status = 'processing', total = 0, deleted = 0,
                   started_at = coalesce(started_at, clock_timestamp())
               WHERE id = %s AND status IN ('pending', 'processing') RETURNING *""",
            (job_id,),
        )
        if job is None:
            return BULK_DELETE.select(conn, job_id)
        BULK_DELETE.announce(bulk_delete_snapshot(job))
        started = time.monotonic()
        done = _delete_everything(conn, job, _Progress(job_id, progress_conn))
        log.info(
            "bulk delete %s: %s products in %.2fs", job_id, done.deleted, time.monotonic() - started
        )
        BULK_DELETE.announce(bulk_delete_snapshot(done))
        return done
