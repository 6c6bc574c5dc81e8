"""How an import ended, as a person reads it: its outcome, its repeated rows, its pace."""

from __future__ import annotations

from enum import StrEnum

from product_importer.models import ImportJob, JobStatus


class Outcome(StrEnum):
    """What a completed import did to the catalogue."""

    all_applied = "all_applied"
    applied_with_skipped = "applied_with_skipped"
    nothing_applied = "nothing_applied"

    @property
    def words(self) -> str:
        return _WORDS[self]


_WORDS = {
    Outcome.all_applied: "all rows applied",
    Outcome.applied_with_skipped: "applied with skipped rows",
    Outcome.nothing_applied: "nothing applied",
}


def outcome_of(job: ImportJob) -> Outcome | None:
    """The outcome of a completed import; None while it runs, or when it failed or was
    cancelled (its status says so). A file whose rows were all skipped, or that had no
    rows, applied nothing."""
    if job.status != JobStatus.completed:
        return None
    applied = job.created + job.updated + job.unchanged
    if applied == 0:
        return Outcome.nothing_applied
    if job.skipped:
        return Outcome.applied_with_skipped
    return Outcome.all_applied


def repeated_in_file(job: ImportJob) -> int:
    """Valid rows whose SKU (any letter case) came again later in the file: the last one
    was kept. Known once the file is deduplicated; 0 before."""
    if "dedupe_s" not in (job.timings or {}):
        return 0
    return max(0, job.total_rows - job.skipped - job.distinct_rows)


def duration_seconds(job: ImportJob) -> float | None:
    """From the upload's first byte to the job's end; None until it ends."""
    if job.created_at is None or job.finished_at is None:
        return None
    return max(0.0, (job.finished_at - job.created_at).total_seconds())


def average_rate(job: ImportJob) -> float | None:
    """Rows per second over the whole job; None until it ends."""
    seconds = duration_seconds(job)
    if seconds is None:
        return None
    return round(job.total_rows / seconds, 1) if seconds > 0 else float(job.total_rows)
