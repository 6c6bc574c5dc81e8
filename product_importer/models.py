"""Database tables (SQLModel). The schema itself is owned by the Alembic migrations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel


def _id_column() -> Column:
    return Column(BigInteger, Identity(always=False), primary_key=True)


def _timestamp(**kwargs) -> Column:
    return Column(DateTime(timezone=True), **kwargs)


class Product(SQLModel, table=True):
    __tablename__ = "products"
    __table_args__ = (
        # Covering: deep pages in SKU order skip rows in the index alone (migration 0004).
        Index(
            "products_sku_lower_key",
            text("lower(sku)"),
            unique=True,
            postgresql_include=["sku", "id", "active"],
        ),
        # One (column, id) index per sort column (see products.listing).
        Index("products_name_id", "name", "id", postgresql_include=["active"]),
        Index("products_price_id", "price", "id", postgresql_include=["active"]),
        Index("products_active_id", "active", "id"),
        Index("products_created_at_id", "created_at", "id", postgresql_include=["active"]),
        Index("products_updated_at_id", "updated_at", "id", postgresql_include=["active"]),
    )

    id: int | None = Field(default=None, sa_column=_id_column())
    sku: str = Field(sa_column=Column(Text, nullable=False))
    name: str = Field(sa_column=Column(Text, nullable=False))
    description: str = Field(sa_column=Column(Text, nullable=False))
    price: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2), nullable=True))
    active: bool = Field(default=True)
    created_at: datetime | None = Field(
        default=None, sa_column=_timestamp(nullable=False, server_default=func.now())
    )
    updated_at: datetime | None = Field(
        default=None, sa_column=_timestamp(nullable=False, server_default=func.now())
    )


class JobStatus(StrEnum):
    pending = "pending"
    processing = "processing"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in (JobStatus.completed, JobStatus.failed, JobStatus.cancelled)


# A job in one of these has not ended: it waits for a worker or runs.
ACTIVE_STATUSES = (JobStatus.pending, JobStatus.processing)
_ACTIVE_SQL = "status IN ('pending', 'processing')"
_PREVIEWED_SQL = "stage = 'previewed'"


class JobStage(StrEnum):
    queued = "queued"
    deduplicating = "deduplicating"
    # A preview's file is deduplicated and counted; it waits (status pending: not ended,
    # nothing written) for a person to apply or discard it (see imports/preview.py).
    previewed = "previewed"
    applying = "applying"
    done = "done"
    # A preview discarded by a person or for its age (status cancelled).
    discarded = "discarded"


class ImportJob(SQLModel, table=True):
    __tablename__ = "import_jobs"
    __table_args__ = (
        Index("import_jobs_created_at", text("created_at DESC"), text("id DESC")),
        Index("import_jobs_active", "id", postgresql_where=text(_ACTIVE_SQL)),
        Index("import_jobs_previews", "preview_until", postgresql_where=text(_PREVIEWED_SQL)),
    )

    id: int | None = Field(default=None, sa_column=_id_column())
    filename: str = Field(sa_column=Column(Text, nullable=False))
    file_size: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    status: str = Field(default=JobStatus.pending, sa_column=Column(Text, nullable=False))
    stage: str = Field(default=JobStage.queued, sa_column=Column(Text, nullable=False))
    encoding: str = Field(default="utf-8", sa_column=Column(Text, nullable=False))
    delimiter: str = Field(default=",", sa_column=Column(Text, nullable=False))
    extra_columns: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    )
    # The file's header as written (its names, in its order): the error report's columns.
    header: list[str] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    total_rows: int = 0
    # Every physical line of the file is its header, a blank line or part of one of the
    # total_rows rows (a row with line breaks in a quoted value spans several).
    file_lines: int = 0
    blank_lines: int = 0
    # Distinct valid SKUs in the file: created + updated + unchanged at the end.
    distinct_rows: int = 0
    processed_rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    # Resume point: the distinct products, numbered in lower(sku) order, are applied in
    # batches of `batch_size`; `done_batches` lists the batches already committed.
    batch_size: int = 0
    done_batches: list[int] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(Integer), nullable=False, server_default=text("'{}'")),
    )
    cancel_requested: bool = False
    # What the import may do (imports/options.py): "create_update", "create_only" or
    # "update_only"; and to catalog products missing from its file: "leave",
    # "deactivate" or "delete".
    mode: str = Field(default="create_update", sa_column=Column(Text, nullable=False))
    missing: str = Field(default="leave", sa_column=Column(Text, nullable=False))
    # Existing SKUs a create-only import skipped, unknown SKUs an update-only one skipped,
    # and the products missing from the file it deactivated or deleted.
    skipped_existing: int = 0
    skipped_unknown: int = 0
    deactivated: int = 0
    deleted: int = 0
    # A preview (imports/preview.py): its counts once deduplicated, and when it is
    # discarded unless applied.
    dry_run: bool = False
    preview_counts: dict[str, int] | None = Field(
        default=None, sa_column=Column(JSONB, nullable=True)
    )
    preview_until: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    # Imports apply one at a time, in the order their uploads were complete (see
    # imports/apply_order.py); set when the upload commits.
    apply_order: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # Whether its before-images are kept (imports/before_images.py): false for imports
    # made before they were recorded and once the retention removed them; and when a
    # revert of it completed (imports/revert.py).
    revertible: bool = Field(
        default=True, sa_column=Column(Boolean, nullable=False, server_default=text("true"))
    )
    reverted_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    timings: dict[str, float] = Field(
        default_factory=dict,
        sa_column=Column(JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    )
    created_at: datetime | None = Field(
        default=None, sa_column=_timestamp(nullable=False, server_default=func.now())
    )
    started_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    # The saved mapping whose columns the file was read with (imports/saved_mappings.py),
    # and its name then (kept when the mapping is renamed or deleted).
    saved_mapping_id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger, ForeignKey("saved_mappings.id", ondelete="SET NULL"), nullable=True
        ),
    )
    saved_mapping_name: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # The columns the file was read with ({field: header}), the prices' decimal separator
    # ("." or ",", None when the file never showed one) and how it was decided ("chosen",
    # "seen" in the file, "none").
    column_mapping: dict[str, str] | None = Field(
        default=None, sa_column=Column(JSONB, nullable=True)
    )
    price_decimal: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    price_decimal_source: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # A preview's file, kept to read it again with another number style before Apply.
    kept_upload_id: str | None = Field(
        default=None,
        sa_column=Column(
            Text, ForeignKey("pending_uploads.id", ondelete="SET NULL"), nullable=True
        ),
    )


class SavedMapping(SQLModel, table=True):
    """A column mapping saved under a name for one set of header names: a file with the
    same set is read with it again (imports/saved_mappings.py)."""

    __tablename__ = "saved_mappings"
    __table_args__ = (
        Index("saved_mappings_name_key", text("lower(name)"), unique=True),
        Index("saved_mappings_header_key", "header_key"),
    )

    id: int | None = Field(default=None, sa_column=_id_column())
    name: str = Field(sa_column=Column(Text, nullable=False))
    # The normalised header names, sorted and joined: what a file is matched by.
    header_key: str = Field(sa_column=Column(Text, nullable=False))
    # The header names as the file wrote them, and {field: header}.
    headers: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    columns: dict[str, str | None] = Field(sa_column=Column(JSONB, nullable=False))
    created_by: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime | None = Field(
        default=None, sa_column=_timestamp(nullable=False, server_default=func.now())
    )
    updated_at: datetime | None = Field(
        default=None, sa_column=_timestamp(nullable=False, server_default=func.now())
    )


class PendingUpload(SQLModel, table=True):
    """A received file whose columns are being chosen: its bytes (PendingUploadChunk) wait
    in PostgreSQL, for any web process, until the mapping starts its import or it expires
    (imports/pending_uploads.py)."""

    __tablename__ = "pending_uploads"
    __table_args__ = (Index("pending_uploads_expires_at", "expires_at"),)

    id: str = Field(sa_column=Column(Text, primary_key=True))
    # Who sent it ("user:<id>", or "token:<id>" for a token without an owner).
    owner: str = Field(sa_column=Column(Text, nullable=False))
    filename: str = Field(sa_column=Column(Text, nullable=False))
    sheet: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    file_size: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default=text("0"))
    )
    headers: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    )
    # Set while a request imports it (a second request is refused meanwhile).
    claimed_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    created_at: datetime | None = Field(
        default=None, sa_column=_timestamp(nullable=False, server_default=func.now())
    )
    expires_at: datetime = Field(sa_column=_timestamp(nullable=False))


class PendingUploadChunk(SQLModel, table=True):
    """One piece of a pending upload's bytes, in order."""

    __tablename__ = "pending_upload_chunks"

    upload_id: str = Field(
        sa_column=Column(
            Text,
            ForeignKey("pending_uploads.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    seq: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class ImportRowError(SQLModel, table=True):
    """A skipped row of an import: where it was and why."""

    __tablename__ = "import_row_errors"
    __table_args__ = (Index("import_row_errors_job_line", "job_id", "line"),)

    id: int | None = Field(default=None, sa_column=_id_column())
    job_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("import_jobs.id", ondelete="CASCADE"), nullable=False
        )
    )
    line: int
    sku: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    # The row's values as the file had them (one per column it had).
    cells: list[str] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))


class BulkDeleteJob(SQLModel, table=True):
    """One "delete every product" request, run in the background by a worker.

    Its own small table rather than a kind of import job: it has none of an import's
    file, stages, batches or counts, and the import history must not list it."""

    __tablename__ = "bulk_delete_jobs"
    # At most one delete-all waits or runs at a time, whoever asks.
    __table_args__ = (
        Index(
            "bulk_delete_jobs_one_active",
            text("(true)"),
            unique=True,
            postgresql_where=text(_ACTIVE_SQL),
        ),
    )

    id: int | None = Field(default=None, sa_column=_id_column())
    status: str = Field(default=JobStatus.pending, sa_column=Column(Text, nullable=False))
    # Products there were when the delete took its lock, and how many it removed.
    total: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    deleted: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime | None = Field(
        default=None, sa_column=_timestamp(nullable=False, server_default=func.now())
    )
    started_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))


def _job_id_column(table: str) -> Column:
    return Column(BigInteger, ForeignKey(f"{table}.id", ondelete="CASCADE"), primary_key=True)


class ImportBeforeImage(SQLModel, table=True):
    """What a product was before an import changed it, recorded by the engine in the
    transaction of the batch that changed it (imports/before_images.py)."""

    __tablename__ = "import_before_images"

    job_id: int = Field(sa_column=_job_id_column("import_jobs"))
    # The product's number in the import's batches (dedup order), so a revert goes
    # through them in the same batches; products missing from the file follow.
    seq: int = Field(sa_column=Column(Integer, primary_key=True))
    key: str = Field(sa_column=Column(Text, nullable=False))
    # "u": the import updated (or deactivated) it; "d": it deleted it (missing from the
    # file). Its values before.
    change: str = Field(sa_column=Column(Text, nullable=False))
    sku: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    name: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    price: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2), nullable=True))
    active: bool | None = Field(default=None, sa_column=Column(Boolean, nullable=True))
    # Its updated_at before (a revert gives it back too), and as the import left it: a
    # different one at revert time means it changed again since.
    updated_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    applied_at: datetime = Field(sa_column=_timestamp(nullable=False))


class ImportCreatedRange(SQLModel, table=True):
    """The products one batch of an import created: the ids between first_id and last_id
    whose created_at is the batch's `applied_at` (its transaction's now()), so a fresh
    import records one row per batch, not one per product (imports/before_images.py)."""

    __tablename__ = "import_created_ranges"

    job_id: int = Field(sa_column=_job_id_column("import_jobs"))
    batch: int = Field(sa_column=Column(Integer, primary_key=True))
    first_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    last_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    created: int = Field(sa_column=Column(Integer, nullable=False))
    applied_at: datetime = Field(sa_column=_timestamp(nullable=False))


class ImportRevert(SQLModel, table=True):
    """Taking an import back, run in the background by a worker (one per import)."""

    __tablename__ = "import_reverts"
    __table_args__ = (Index("import_reverts_one_per_import", "import_id", unique=True),)

    id: int | None = Field(default=None, sa_column=_id_column())
    import_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("import_jobs.id", ondelete="CASCADE"), nullable=False
        )
    )
    status: str = Field(default=JobStatus.pending, sa_column=Column(Text, nullable=False))
    restore_conflicts: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false"))
    )
    # Before-images to go through, and how many were; what became of them.
    total: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    processed: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    deleted: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    restored: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    conflicts_left: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    conflicts_restored: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    # Resume point, as an import's: the import's own batches (of `batch_size` products),
    # then those of the products missing from its file.
    batch_size: int = 0
    batches: int = 0
    done_batches: list[int] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(Integer), nullable=False, server_default=text("'{}'")),
    )
    cancel_requested: bool = False
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime | None = Field(
        default=None, sa_column=_timestamp(nullable=False, server_default=func.now())
    )
    started_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))


class ImportRevertConflict(SQLModel, table=True):
    """A product a revert found changed since the import, and whether it restored it."""

    __tablename__ = "import_revert_conflicts"

    revert_id: int = Field(sa_column=_job_id_column("import_reverts"))
    key: str = Field(sa_column=Column(Text, primary_key=True))
    # "c", "u" or "d" (as a before-image's); `seq` names the before-image ("u", "d").
    change: str = Field(sa_column=Column(Text, nullable=False))
    seq: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    restored: bool = Field(sa_column=Column(Boolean, nullable=False))


class ProductCountDelta(SQLModel, table=True):
    """A change of the catalog's size: one row per statement that inserted (+n) or deleted
    (-n) products, written by a trigger in that statement's transaction (migration 0010).
    The catalog's exact size is the sum; `product_importer.catalog_statistics` reads it."""

    __tablename__ = "product_count_deltas"

    id: int | None = Field(default=None, sa_column=_id_column())
    delta: int = Field(sa_column=Column(BigInteger, nullable=False))


class DeferredIndex(SQLModel, table=True):
    """An index of products that a big import dropped, kept with its definition until it
    is built again in bulk (imports.deferred_indexes, migration 0016)."""

    __tablename__ = "deferred_indexes"

    name: str = Field(sa_column=Column(Text, primary_key=True))
    definition: str = Field(sa_column=Column(Text, nullable=False))
    deferred_at: datetime | None = Field(
        default=None, sa_column=_timestamp(nullable=False, server_default=func.now())
    )


class ExportJob(SQLModel, table=True):
    """One export of the catalog (or of what a filter shows) as a CSV file, written in the
    background by a worker into `export_chunks`, downloadable until `expires_at`."""

    __tablename__ = "export_jobs"
    __table_args__ = (
        Index("export_jobs_owner_created_at", "owner", text("created_at DESC")),
        Index("export_jobs_expires_at", "expires_at"),
    )

    id: int | None = Field(default=None, sa_column=_id_column())
    status: str = Field(default=JobStatus.pending, sa_column=Column(Text, nullable=False))
    # The products page's filters (products.listing.ProductFilter's fields).
    filters: dict[str, str | bool | None] = Field(
        default_factory=dict,
        sa_column=Column(JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    )
    # The file's format: "csv" or "xlsx".
    format: str = Field(default="csv", sa_column=Column(Text, nullable=False))
    # Who asked: "user:<id>" (a user, or a token acting for its owner) or "token:<id>" (a
    # token without an owner); and their name, as people read it.
    owner: str = Field(sa_column=Column(Text, nullable=False))
    requested_by: str = Field(sa_column=Column(Text, nullable=False))
    # Products the filters matched when the export began, and rows written so far.
    total: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    written: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    # The finished file: its size and how many chunks hold it.
    size_bytes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    chunks: int = 0
    cancel_requested: bool = False
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime | None = Field(
        default=None, sa_column=_timestamp(nullable=False, server_default=func.now())
    )
    started_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    # Set when it ends: the worker removes the job and its file then.
    expires_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))


class ExportChunk(SQLModel, table=True):
    """A piece (about EXPORT_CHUNK_BYTES) of an export's CSV file, in order of `seq`: in
    PostgreSQL, so any web process can serve a file any worker wrote."""

    __tablename__ = "export_chunks"

    job_id: int = Field(
        sa_column=Column(
            BigInteger,
            ForeignKey("export_jobs.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    seq: int = Field(sa_column=Column(Integer, primary_key=True))
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
