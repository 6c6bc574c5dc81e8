"""Delete every product in the background, with progress over the imports' pipeline.

All or nothing: the whole delete is one transaction that first locks the products table
against writers (readers go on seeing the catalog until the commit), deletes in id-range
batches publishing progress after each, and commits the deletion together with the job's
result and its `products.bulk_deleted` event. A worker that dies mid-way leaves every
product in place; the redelivered message runs the delete again from the start.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, fields

import psycopg
import redis
from psycopg.rows import dict_row

from product_importer import db
from product_importer.catalog_guard import admit_bulk_delete
from product_importer.events import EventType, record_event
from product_importer.jobs.progress import publish
from product_importer.models import BulkDeleteJob, JobStatus

log = logging.getLogger(__name__)

TOPIC = "bulk_delete"
# Batches one delete is split into: enough for a smooth bar, few enough to cost nothing.
PROGRESS_STEPS = 20
# How long the delete waits for writers (a product being saved) to let go of the table.
LOCK_TIMEOUT = "30s"
_SELECT_JOB = "SELECT * FROM bulk_delete_jobs WHERE id = %s"
# Namespace of the advisory lock that keeps two workers off one job.
_LOCK_CLASS = 0x1A9


class BulkDeleteNotFound(LookupError):
    def __init__(self, job_id: int) -> None:
        super().__init__(f"bulk delete {job_id} not found")


@dataclass(frozen=True)
class BulkDeleteSnapshot:
    """What a watcher of a delete-all needs to draw it."""

    job_id: int
    status: str
    total: int
    deleted: int
    percent: float
    error: str | None = None

    @property
    def is_terminal(self) -> bool:
        return JobStatus(self.status).is_terminal

    @classmethod
    def of_job(cls, job: BulkDeleteJob) -> BulkDeleteSnapshot:
        return cls(
            job_id=int(job.id or 0),
            status=job.status,
            total=job.total,
            deleted=job.deleted,
            percent=_percent(job.status, job.deleted, job.total),
            error=job.error,
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str) -> BulkDeleteSnapshot:
        data = json.loads(raw)
        return cls(**{f.name: data.get(f.name) for f in fields(cls)})


def _percent(status: str, deleted: int, total: int) -> float:
    if status == JobStatus.completed:
        return 100.0
    return round(min(100.0, 100.0 * deleted / total), 1) if total else 0.0


def _announce(snapshot: BulkDeleteSnapshot) -> None:
    """Publish progress; a Redis hiccup never fails the delete."""
    try:
        publish(snapshot, topic=TOPIC)
    except redis.RedisError as exc:
        log.warning("progress of bulk delete %s not published: %s", snapshot.job_id, exc)


def _fetch_job(conn: psycopg.Connection, query: str, params: tuple) -> BulkDeleteJob | None:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(query, params).fetchone()
    return BulkDeleteJob.model_validate(row) if row else None


def get_bulk_delete(job_id: int) -> BulkDeleteJob:
    with db.pooled_connection() as conn:
        job = _fetch_job(conn, _SELECT_JOB, (job_id,))
    if job is None:
        raise BulkDeleteNotFound(job_id)
    return job


def snapshot(job_id: int) -> BulkDeleteSnapshot:
    return BulkDeleteSnapshot.of_job(get_bulk_delete(job_id))


def active_bulk_delete() -> BulkDeleteJob | None:
    """The delete-all that waits or runs now, if any."""
    with db.pooled_connection() as conn:
        return _fetch_job(
            conn,
            "SELECT * FROM bulk_delete_jobs WHERE status IN ('pending', 'processing')",
            (),
        )


def request_bulk_delete() -> BulkDeleteJob:
    """Queue the deletion of every product and answer its job; a delete-all already waiting
    or running is answered instead of a second one. Raises CatalogBusy while an import is
    uploaded, waits or runs."""
    # Imported here: declaring the actor connects the broker, which only senders need.
    from product_importer.products.actors import run_bulk_delete

    with db.connect() as conn:
        admit_bulk_delete(conn)
        running = _fetch_job(
            conn,
            "SELECT * FROM bulk_delete_jobs WHERE status IN ('pending', 'processing')",
            (),
        )
        if running is not None:
            return running
        job = _fetch_job(conn, "INSERT INTO bulk_delete_jobs DEFAULT VALUES RETURNING *", ())
        conn.commit()
    assert job is not None and job.id is not None
    _announce(BulkDeleteSnapshot.of_job(job))
    try:
        run_bulk_delete.send(job.id)
    except Exception as exc:  # the broker is down: the job must not wait forever
        return fail_bulk_delete(job.id, f"could not queue the bulk delete: {exc}") or job
    return job


def fail_bulk_delete(job_id: int, error: str) -> BulkDeleteJob | None:
    """Mark the job failed (nothing was deleted: its transaction rolled back)."""
    with db.connect(autocommit=True) as conn:
        job = _fetch_job(
            conn,
            """UPDATE bulk_delete_jobs SET status = 'failed', error = %s, finished_at = now()
               WHERE id = %s AND status IN ('pending', 'processing') RETURNING *""",
            (error, job_id),
        )
    if job is not None:
        _announce(BulkDeleteSnapshot.of_job(job))
    return job


def _delete_everything(conn: psycopg.Connection, job: BulkDeleteJob) -> BulkDeleteJob:
    """The one transaction that deletes every product and records the outcome."""
    job_id = int(job.id or 0)
    with conn.transaction():
        conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        # Writers wait (a product saved meanwhile is deleted too, or saved after); readers
        # are not blocked and see the whole catalog until the commit.
        conn.execute("LOCK TABLE products IN EXCLUSIVE MODE")
        total, low, high = conn.execute(
            "SELECT count(*), min(id), max(id) FROM products"
        ).fetchone()
        _announce(BulkDeleteSnapshot(job_id, JobStatus.processing, total, 0, 0.0))
        deleted = 0
        if total:
            step = max(1, -(-(high - low + 1) // PROGRESS_STEPS))
            for start in range(low, high + 1, step):
                deleted += conn.execute(
                    "DELETE FROM products WHERE id >= %s AND id < %s", (start, start + step)
                ).rowcount
                percent = _percent(JobStatus.processing, deleted, total)
                _announce(BulkDeleteSnapshot(job_id, JobStatus.processing, total, deleted, percent))
        record_event(conn, EventType.products_bulk_deleted, {"count": deleted, "job_id": job_id})
        done = _fetch_job(
            conn,
            """UPDATE bulk_delete_jobs SET status = 'completed', total = %s, deleted = %s,
                   finished_at = now() WHERE id = %s RETURNING *""",
            (total, deleted, job_id),
        )
    assert done is not None
    return done


def run_bulk_delete_job(job_id: int) -> BulkDeleteJob | None:
    """Run (or run again) a queued delete-all to its end. Database errors propagate (the
    actor retries the transient ones); nothing is deleted unless everything is."""
    with db.connect(autocommit=True) as conn:
        locked = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (_LOCK_CLASS, job_id))
        if not locked.fetchone()[0]:
            log.info("bulk delete %s is being run by another worker", job_id)
            return None
        job = _fetch_job(
            conn,
            """UPDATE bulk_delete_jobs SET status = 'processing',
                   started_at = coalesce(started_at, now())
               WHERE id = %s AND status IN ('pending', 'processing') RETURNING *""",
            (job_id,),
        )
        if job is None:
            return _fetch_job(conn, _SELECT_JOB, (job_id,))
        _announce(BulkDeleteSnapshot.of_job(job))
        started = time.monotonic()
        done = _delete_everything(conn, job)
        log.info(
            "bulk delete %s: %s products in %.2fs", job_id, done.deleted, time.monotonic() - started
        )
        _announce(BulkDeleteSnapshot.of_job(done))
        # Fresh statistics: the planner's estimates (and the list's "about" totals) at once
        # know the table is empty, without waiting for autovacuum.
        conn.execute("ANALYZE products")
        return done
