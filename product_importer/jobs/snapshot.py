"""What a watcher of any job sees: the base of every kind's progress snapshot."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict

from product_importer.models import JobStatus


class JobSnapshot(BaseModel):
    """A job's progress at one moment. Each kind of job adds its own counts; the
    mechanism (publish, follow, SSE, the browser watchers) needs only these fields."""

    model_config = ConfigDict(frozen=True)

    job_id: int
    status: JobStatus
    percent: float = 0.0
    error: str | None = None
    # No worker holds the job although it has not ended: it waits to be taken (pending)
    # or to be taken up again after its worker stopped (processing).
    waiting_for_worker: bool = False

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, raw: str | bytes) -> Self:
        return cls.model_validate_json(raw)


def percent_done(status: str, done: int, total: int) -> float:
    """How far a job is, 0-100 with one decimal; a completed job is at 100."""
    if status == JobStatus.completed:
        return 100.0
    if not total:
        return 0.0
    return round(min(100.0, 100.0 * done / total), 1)
