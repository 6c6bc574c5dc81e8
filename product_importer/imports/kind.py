"""The import as a kind of job: its snapshot and its place in the job mechanism."""

from __future__ import annotations

from datetime import datetime

from product_importer import advisory_locks
from product_importer.imports.outcome import (
    average_rate,
    duration_seconds,
    outcome_of,
    repeated_in_file,
)
from product_importer.jobs.kind import JobKind
from product_importer.jobs.rate import RateClock
from product_importer.jobs.snapshot import JobSnapshot, percent_done
from product_importer.models import ImportJob, JobStage, JobStatus


class ImportSnapshot(JobSnapshot):
    """What a watcher of an import needs to draw it."""

    stage: str
    processed_rows: int = 0
    total_rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    rows_per_second: float = 0.0
    eta_seconds: float | None = None
    # Set once the job has ended (see imports/outcome.py).
    outcome: str | None = None
    repeated: int = 0
    duration_seconds: float | None = None
    average_rows_per_second: float | None = None
    # What the import may do (imports/options.py) and what it skipped or removed for it.
    mode: str = "create_update"
    missing: str = "leave"
    skipped_existing: int = 0
    skipped_unknown: int = 0
    deactivated: int = 0
    deleted: int = 0
    # A preview (imports/preview.py): its counts once previewed, and until when it waits.
    dry_run: bool = False
    preview_counts: dict[str, int] | None = None
    preview_until: datetime | None = None


def import_percent(job: ImportJob) -> float:
    return percent_done(job.status, job.processed_rows, job.total_rows)


def import_snapshot(job: ImportJob, clock: RateClock | None = None) -> ImportSnapshot:
    """The job as its watchers see it; with the run's clock, its speed and time left."""
    rate = clock.rate(job.processed_rows) if clock else 0.0
    eta = clock.eta(job.processed_rows, job.total_rows) if clock else None
    if JobStatus(job.status).is_terminal:
        eta = 0.0 if job.status == JobStatus.completed else None
    return ImportSnapshot(
        job_id=int(job.id or 0),
        status=JobStatus(job.status),
        stage=job.stage,
        percent=import_percent(job),
        processed_rows=job.processed_rows,
        total_rows=job.total_rows,
        created=job.created,
        updated=job.updated,
        unchanged=job.unchanged,
        skipped=job.skipped,
        rows_per_second=round(rate, 1),
        eta_seconds=None if eta is None else round(eta, 1),
        error=job.error,
        outcome=outcome_of(job),
        repeated=repeated_in_file(job),
        duration_seconds=duration_seconds(job),
        average_rows_per_second=average_rate(job),
        mode=job.mode,
        missing=job.missing,
        skipped_existing=job.skipped_existing,
        skipped_unknown=job.skipped_unknown,
        deactivated=job.deactivated,
        deleted=job.deleted,
        dry_run=job.dry_run,
        preview_counts=job.preview_counts,
        preview_until=job.preview_until,
    )


def previewed(job: ImportJob) -> bool:
    """A preview waiting for a person to apply or discard it."""
    return job.stage == JobStage.previewed and job.status == JobStatus.pending


IMPORTS: JobKind[ImportJob, ImportSnapshot] = JobKind(
    name="import",
    label="import",
    model=ImportJob,
    snapshot_type=ImportSnapshot,
    snapshot_of=import_snapshot,
    lock_class=advisory_locks.IMPORT_JOB,
    actor_name="run_import",
    queue_name="imports",
    at_rest=previewed,
)
