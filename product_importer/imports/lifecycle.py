"""The import job's row and its ends: read it, announce its progress, finish or fail it.

The upload side (intake, jobs) and the apply pipeline (engine) both use these; none of
them needs the other for it.
"""

from __future__ import annotations

import logging

import psycopg

from product_importer import db
from product_importer.events import EventType, record_event
from product_importer.events.payloads import ImportData
from product_importer.imports.kind import IMPORTS, import_snapshot
from product_importer.imports.tables import drop_job_tables
from product_importer.jobs.rate import RateClock
from product_importer.models import ImportJob, JobStage, JobStatus

log = logging.getLogger(__name__)


def announce(job: ImportJob, clock: RateClock | None = None) -> None:
    """Publish the job's progress; a Redis hiccup never fails an import."""
    IMPORTS.announce(import_snapshot(job, clock))


def fetch_job(conn: psycopg.Connection, query: str, params: tuple) -> ImportJob | None:
    """Run a query answering one import_jobs row (SELECT or ... RETURNING *) as a job."""
    return IMPORTS.fetch(conn, query, params)


_TERMINAL_EVENTS = {
    JobStatus.completed: EventType.import_completed,
    JobStatus.failed: EventType.import_failed,
}


def finish_import(
    conn: psycopg.Connection, job_id: int, status: JobStatus, error: str | None
) -> ImportJob:
    """Put the job in a terminal status and drop its working tables, in one transaction
    with its event (`import.completed` or `import.failed`). A job already ended keeps its
    status, and no second event is recorded."""
    with conn.transaction():
        drop_job_tables(conn, job_id)
        job = fetch_job(
            conn,
            """UPDATE import_jobs SET status = %s, stage = %s, error = %s,
                   finished_at = clock_timestamp(),
                   timings = timings || jsonb_build_object('total_s',
                       round(extract(epoch FROM clock_timestamp() - created_at)::numeric, 3))
               WHERE id = %s AND status NOT IN ('completed', 'failed', 'cancelled')
               RETURNING *""",
            (status.value, JobStage.done.value, error, job_id),
        )
        if job is not None and status in _TERMINAL_EVENTS:
            record_event(conn, _TERMINAL_EVENTS[status], ImportData.of(job))
    if job is None:
        job = IMPORTS.select(conn, job_id)
    assert job is not None
    return job


def fail_import(job_id: int, error: str) -> ImportJob | None:
    """Mark the job failed with a message a person can read, and clean up after it."""
    # Pooled: the upload's request fails its job this way when the broker is down.
    with db.pooled_connection() as conn:
        current = IMPORTS.select(conn, job_id)
        if current is None or JobStatus(current.status).is_terminal:
            return current
        job = finish_import(conn, job_id, JobStatus.failed, error)
        conn.commit()
    announce(job)
    return job
