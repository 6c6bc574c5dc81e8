"""Downloading a finished export: its chunks streamed out in order, one in memory at a time,
by whichever web process is asked (the file lives in PostgreSQL, not on a worker's disk)."""

from __future__ import annotations

from collections.abc import Iterator

from product_importer import db
from product_importer.models import ExportJob, JobStatus
from product_importer.products.export_jobs import ExportConflict, Requester, get_export


def ready_export(job_id: int, requester: Requester) -> ExportJob:
    """The job, if its file can be downloaded; raises JobNotFound, ExportConflict."""
    job = get_export(job_id, requester)
    if job.status != JobStatus.completed:
        ended = JobStatus(job.status).is_terminal
        state = f"was {job.status}" if ended else "has not finished yet"
        raise ExportConflict(f"export {job_id} {state}: there is no file to download")
    return job


def export_file(job: ExportJob) -> Iterator[bytes]:
    """The file's bytes, chunk by chunk. Each chunk borrows a connection for its own read
    only, so a slow client never holds one."""
    for seq in range(job.chunks):
        with db.pooled_connection() as conn:
            row = conn.execute(
                "SELECT data FROM export_chunks WHERE job_id = %s AND seq = %s",
                (job.id, seq),
                binary=True,
            ).fetchone()
            conn.rollback()
        if row is None:  # removed meanwhile (its retention ended): the file stops short
            return
        yield bytes(row[0])
