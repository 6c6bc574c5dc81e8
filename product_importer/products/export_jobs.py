"""Export jobs: the catalog (or what the products page's filters show) written as a CSV file
by a worker, with progress, then downloaded from any web process.

A job is created with the filters and who asked; its worker (products/export_writer.py)
writes the file into `export_chunks`, and the download (products/export_download.py)
streams it out. Who sees a job: the one who asked (a user, and that user's tokens) and
admins; to anyone else it does not exist (404). A job that has ended is kept
EXPORT_RETENTION_HOURS, then the worker removes it with its file: the job's own message,
sent again delayed when it ends, and a sweep of every due export at each export's run.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum

import psycopg
from psycopg.types.json import Jsonb

from product_importer import advisory_locks, db
from product_importer.jobs.kind import JobKind
from product_importer.jobs.snapshot import JobSnapshot, percent_done
from product_importer.jobs.store import JobNotFound, fetch_rows
from product_importer.models import ExportJob, JobStatus
from product_importer.products.listing import ProductFilter
from product_importer.settings import settings

log = logging.getLogger(__name__)

_ACTIVE = "status IN ('pending', 'processing')"
# When an ended job expires, from the moment it ended.
_EXPIRES = "clock_timestamp() + make_interval(secs => %s)"


class ExportSnapshot(JobSnapshot):
    """What a watcher of an export needs to draw it."""

    total: int = 0
    written: int = 0
    size_bytes: int = 0


def export_snapshot(job: ExportJob) -> ExportSnapshot:
    return ExportSnapshot(
        job_id=int(job.id or 0),
        status=JobStatus(job.status),
        total=job.total,
        written=job.written,
        size_bytes=job.size_bytes,
        percent=percent_done(job.status, job.written, job.total),
        error=job.error,
    )


EXPORTS: JobKind[ExportJob, ExportSnapshot] = JobKind(
    name="export",
    label="export",
    model=ExportJob,
    snapshot_type=ExportSnapshot,
    snapshot_of=export_snapshot,
    lock_class=advisory_locks.EXPORT_JOB,
    actor_name="run_export",
    queue_name="products",
)


@dataclass(frozen=True)
class Requester:
    """Who asks for or about an export: their owner key (access.Principal.owner_key), their
    name, and whether they see every export (admins)."""

    owner: str
    name: str
    sees_all: bool = False


class ExportConflict(RuntimeError):
    """The export's state forbids this now (not ready to download, already ended)."""


def filters_of(job: ExportJob) -> ProductFilter:
    return ProductFilter(**job.filters)  # type: ignore[arg-type]


class ExportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"

    @property
    def media_type(self) -> str:
        if self is ExportFormat.xlsx:
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return "text/csv; charset=utf-8"


def file_name(job: ExportJob) -> str:
    """The download's name: the day it was asked for (UTC), e.g. products-2026-12-04.csv."""
    day = (job.created_at or datetime.now()).strftime("%Y-%m-%d")
    return f"products-{day}.{job.format}"


def retention_seconds() -> float:
    return settings.export_retention_hours * 3600


def get_export(job_id: int, requester: Requester) -> ExportJob:
    """The job, if the requester may see it; raises JobNotFound (also for someone else's)."""
    job = EXPORTS.get(job_id)
    if not requester.sees_all and job.owner != requester.owner:
        raise JobNotFound(EXPORTS.label, job_id)
    return job


def list_exports(requester: Requester, *, page: int, page_size: int) -> tuple[list[ExportJob], int]:
    """One page of the exports the requester sees (kept ones), newest first, and how many."""
    mine = "true" if requester.sees_all else "owner = %(owner)s"
    params = {"owner": requester.owner, "limit": page_size, "offset": (page - 1) * page_size}
    with db.pooled_connection() as conn:
        total = db.scalar(conn, f"SELECT count(*) FROM export_jobs WHERE {mine}", params)
        jobs = fetch_rows(
            conn,
            ExportJob,
            f"""SELECT * FROM export_jobs WHERE {mine} ORDER BY created_at DESC, id DESC
                LIMIT %(limit)s OFFSET %(offset)s""",
            params,
        )
    return jobs, int(total)


def latest_export(requester: Requester) -> ExportJob | None:
    """The requester's newest export that runs or waits, else its newest completed one
    still kept (what the products page shows again after a reload)."""
    with db.pooled_connection() as conn:
        return EXPORTS.fetch(
            conn,
            f"""SELECT * FROM export_jobs
                WHERE owner = %s AND ({_ACTIVE} OR status = 'completed')
                  AND coalesce(expires_at > clock_timestamp(), true)
                ORDER BY created_at DESC, id DESC LIMIT 1""",
            (requester.owner,),
        )


def request_export(
    filters: ProductFilter, requester: Requester, file_format: ExportFormat = ExportFormat.csv
) -> ExportJob:
    """Queue an export of what the filters show (everything without filters)."""
    with db.pooled_connection() as conn:
        job = EXPORTS.fetch(
            conn,
            """INSERT INTO export_jobs (filters, format, owner, requested_by)
               VALUES (%s, %s, %s, %s) RETURNING *""",
            (Jsonb(asdict(filters)), file_format.value, requester.owner, requester.name),
        )
        conn.commit()
    assert job is not None and job.id is not None
    EXPORTS.announce(export_snapshot(job))
    try:
        EXPORTS.enqueue(job.id)
    except Exception as exc:  # the broker is down: the job must not wait forever
        return fail_export(job.id, f"could not queue the export: {exc}") or job
    return job


def _end(
    conn: psycopg.Connection, job_id: int, status: JobStatus, error: str | None
) -> ExportJob | None:
    """End a job that has not ended (its file, if any, removed); None if it had."""
    with conn.transaction():
        conn.execute("DELETE FROM export_chunks WHERE job_id = %s", (job_id,))
        return EXPORTS.fetch(
            conn,
            f"""UPDATE export_jobs SET status = %s, error = %s, chunks = 0, size_bytes = 0,
                    finished_at = clock_timestamp(), expires_at = {_EXPIRES}
                WHERE id = %s AND {_ACTIVE} RETURNING *""",
            (status.value, error, retention_seconds(), job_id),
        )


def fail_export(job_id: int, error: str) -> ExportJob | None:
    """Mark the job failed (no file is kept)."""
    with db.pooled_connection() as conn:
        job = _end(conn, job_id, JobStatus.failed, error)
        conn.commit()
    if job is not None:
        EXPORTS.announce(export_snapshot(job))
        schedule_removal(int(job.id or 0))
    return job


def cancel_export(job_id: int, requester: Requester) -> ExportJob:
    """Cancel an export: at once while it waits for a worker, else its worker stops at its
    next chunk. Raises JobNotFound, ExportConflict (it has ended)."""
    job = get_export(job_id, requester)
    if JobStatus(job.status).is_terminal:
        raise ExportConflict(f"export {job_id} is already {job.status}")
    with db.pooled_connection() as conn:
        ended = None
        # The job's claim, for this transaction only (a pooled connection must never keep
        # it): no worker starts it meanwhile, and one that holds it already gets the ask.
        if job.status == JobStatus.pending and db.scalar(
            conn, "SELECT pg_try_advisory_xact_lock(%s, %s)", (EXPORTS.lock_class, job_id)
        ):
            ended = _end(conn, job_id, JobStatus.cancelled, None)
        if ended is None:
            ended = EXPORTS.fetch(
                conn,
                "UPDATE export_jobs SET cancel_requested = true WHERE id = %s RETURNING *",
                (job_id,),
            )
        conn.commit()
    assert ended is not None
    if JobStatus(ended.status).is_terminal:
        EXPORTS.announce(export_snapshot(ended))
        schedule_removal(job_id)
    return ended


def end_cancelled(conn: psycopg.Connection, job_id: int) -> ExportJob | None:
    """For the worker: end a job whose cancel was asked for."""
    job = _end(conn, job_id, JobStatus.cancelled, None)
    if job is not None:
        EXPORTS.announce(export_snapshot(job))
    return job


def schedule_removal(job_id: int) -> None:
    """The job's own message, when its retention is up: the worker removes it then."""
    try:
        EXPORTS.enqueue(job_id, delay_ms=max(1, int(retention_seconds() * 1000)))
    except Exception as exc:  # the next export's sweep removes it
        log.warning("removal of export %s not scheduled: %s", job_id, exc)


def remove_expired(conn: psycopg.Connection) -> int:
    """Remove every ended export whose retention is up, with its file; answer how many."""
    removed = conn.execute(
        "DELETE FROM export_jobs WHERE expires_at <= clock_timestamp() AND NOT " + _ACTIVE
    ).rowcount
    conn.commit()
    if removed:
        log.info("removed %s expired exports", removed)
    return removed
