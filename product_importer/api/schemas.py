"""JSON shapes of the headless API."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel

from product_importer.imports.progress import job_percent
from product_importer.models import ImportJob

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int


class ImportJobOut(BaseModel):
    id: int
    filename: str
    file_size: int
    status: str
    stage: str
    total_rows: int
    distinct_rows: int
    processed_rows: int
    created: int
    updated: int
    unchanged: int
    skipped: int
    percent: float
    error: str | None
    extra_columns: list[str]
    encoding: str
    delimiter: str
    timings: dict[str, float]
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: ImportJob) -> ImportJobOut:
        return cls(**job.model_dump(), percent=job_percent(job))
