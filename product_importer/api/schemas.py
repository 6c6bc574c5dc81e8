"""JSON shapes of the headless API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from product_importer.imports.kind import IMPORTS, import_percent
from product_importer.imports.outcome import (
    Outcome,
    average_rate,
    duration_seconds,
    outcome_of,
    repeated_in_file,
)
from product_importer.jobs.snapshot import percent_done
from product_importer.models import BulkDeleteJob, ExportJob, ImportJob, Product
from product_importer.products.bulk_delete import BULK_DELETE
from product_importer.products.export_jobs import EXPORTS, file_name
from product_importer.products.fields import ProductFields

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
    file_lines: int
    blank_lines: int
    distinct_rows: int
    processed_rows: int
    created: int
    updated: int
    unchanged: int
    skipped: int
    repeated: int = Field(
        description="valid rows whose SKU (any letter case) came again later in the file: "
        "the last one was kept"
    )
    outcome: Outcome | None = Field(
        description="once completed: all_applied, applied_with_skipped or nothing_applied; "
        "null while running, or when failed or cancelled"
    )
    duration_seconds: float | None = Field(description="from upload to end; null until it ends")
    average_rows_per_second: float | None = Field(description="null until it ends")
    percent: float
    error: str | None
    extra_columns: list[str]
    encoding: str
    delimiter: str
    timings: dict[str, float]
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    waiting_for_worker: bool = Field(
        description="not ended, and no worker holds it: queued, or its worker stopped and "
        "another takes it up again within the heartbeat timeout (never for a preview "
        "waiting for Apply)"
    )
    mode: str = Field(description="create_update, create_only or update_only")
    missing: str = Field(description="products missing from the file: leave, deactivate, delete")
    skipped_existing: int = Field(description="create_only: known SKUs skipped")
    skipped_unknown: int = Field(description="update_only: unknown SKUs skipped")
    deactivated: int = Field(description="missing=deactivate: products deactivated")
    deleted: int = Field(description="missing=delete: products deleted")
    dry_run: bool = Field(description="created as a preview (applies only on Apply)")
    preview_counts: dict[str, int] | None = Field(
        description="once previewed: new, changed, unchanged, repeated, bad, "
        "skipped_existing, skipped_unknown, missing (products the missing choice would "
        "deactivate or delete)"
    )
    preview_until: datetime | None = Field(
        description="a preview waiting for Apply is discarded at this time"
    )
    revertible: bool = Field(
        description="what it changed is kept (for REVERT_DAYS after it ended), so it can be "
        "reverted (POST .../revert)"
    )
    reverted_at: datetime | None = Field(description="when a revert of it completed")
    saved_mapping_id: int | None = Field(
        description="the saved mapping the file's columns were read with (null: none, or "
        "deleted since)"
    )
    saved_mapping_name: str | None = Field(description="that saved mapping's name then")
    column_mapping: dict[str, str] | None = Field(
        description="field -> the file's header its values were read from"
    )
    price_decimal: str | None = Field(
        description='the prices\' decimal separator, "." or ","; null when the file showed none'
    )
    price_decimal_source: str | None = Field(
        description="chosen, seen (in the file's first rows) or none; null: no price column"
    )

    @classmethod
    def of(cls, job: ImportJob) -> ImportJobOut:
        return cls(
            **job.model_dump(),
            percent=import_percent(job),
            repeated=repeated_in_file(job),
            outcome=outcome_of(job),
            duration_seconds=duration_seconds(job),
            average_rows_per_second=average_rate(job),
            waiting_for_worker=IMPORTS.waiting_for_worker(job),
        )


class ProductOut(BaseModel):
    id: int
    sku: str
    name: str
    description: str
    price: Decimal | None
    active: bool
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, product: Product) -> ProductOut:
        return cls(**product.model_dump())


class ProductPageOut(Page[ProductOut]):
    # False when the total is the planner's estimate (more than COUNT_CAP matches).
    total_is_exact: bool


# The body of POST and PUT (PATCH: any of its fields). The model the domain checks bodies
# with: its validators are the field rules, so its schema states what is accepted.
ProductIn = ProductFields


def product_patch_schema() -> dict:
    """ProductIn's JSON schema with every field optional (the body of PATCH)."""
    schema = ProductIn.model_json_schema()
    schema.pop("required", None)
    schema["title"] = "ProductPatch"
    return schema


class BulkDeleteJobOut(BaseModel):
    id: int
    status: str
    total: int
    deleted: int
    percent: float
    error: str | None
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    waiting_for_worker: bool

    @classmethod
    def of(cls, job: BulkDeleteJob) -> BulkDeleteJobOut:
        return cls(
            **job.model_dump(),
            percent=percent_done(job.status, job.deleted, job.total),
            waiting_for_worker=BULK_DELETE.waiting_for_worker(job),
        )


def export_download_path(job_id: int) -> str:
    return f"/api/products/exports/{job_id}/download"


class ExportJobOut(BaseModel):
    id: int
    status: str
    filters: dict[str, str | bool | None] = Field(
        description="the list's filters it was asked with (blank / null: any)"
    )
    format: str = Field(description="csv or xlsx")
    requested_by: str
    total: int = Field(description="products the filters matched when the export began")
    written: int = Field(description="rows written so far (after the header)")
    size_bytes: int = Field(description="the file's size, once completed")
    percent: float
    cancel_requested: bool
    error: str | None
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime | None = Field(
        description="once ended: the job and its file are removed at this time"
    )
    waiting_for_worker: bool
    file_name: str
    download_url: str | None = Field(description="once completed: where to GET the CSV file")

    @classmethod
    def of(cls, job: ExportJob) -> ExportJobOut:
        done = job.status == "completed"
        return cls(
            **job.model_dump(exclude={"owner", "chunks"}),
            percent=percent_done(job.status, job.written, job.total),
            waiting_for_worker=EXPORTS.waiting_for_worker(job),
            file_name=file_name(job),
            download_url=export_download_path(int(job.id or 0)) if done else None,
        )
