"""Rows per second and time remaining of a running job."""

from __future__ import annotations

import time
from dataclasses import dataclass

from product_importer.jobs.progress import ProgressSnapshot
from product_importer.models import ImportJob, JobStatus


@dataclass
class RateClock:
    """Rows per second and time remaining, measured over this run of the job."""

    start_rows: int
    started: float

    def snapshot(self, job: ImportJob) -> ProgressSnapshot:
        elapsed = time.monotonic() - self.started
        moved = job.processed_rows - self.start_rows
        rate = moved / elapsed if elapsed > 0 and moved > 0 else 0.0
        remaining = max(0, job.total_rows - job.processed_rows)
        eta = remaining / rate if rate else None
        if JobStatus(job.status).is_terminal:
            eta = 0.0 if job.status == JobStatus.completed else None
        return ProgressSnapshot.of_job(job, rows_per_second=rate, eta_seconds=eta)
