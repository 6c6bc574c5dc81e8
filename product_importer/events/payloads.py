"""What each event type carries: one payload type per event type.

The real events and the webhook Test button's samples are built from these types, so a
receiver written against a sample gets the same fields in production. The README shows
each with its sample. Field names are a contract with receivers: add, never rename.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Self

from pydantic import BaseModel, ConfigDict

from product_importer.events.types import EventType
from product_importer.models import ImportJob, Product

_SAMPLE_TIME = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class EventPayload(BaseModel):
    """The `data` of an event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def sample(cls) -> Self:
        """An example, shaped like a real one (ids are 0)."""
        raise NotImplementedError


class ProductData(EventPayload):
    """`product.created`, `product.updated`, `product.deleted`: the product (as it is now,
    or as it was when deleted). Prices are decimal strings, times ISO 8601."""

    id: int
    sku: str
    name: str
    description: str
    price: str | None
    active: bool
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, product: Product) -> ProductData:
        return cls(
            id=int(product.id or 0),
            sku=product.sku,
            name=product.name,
            description=product.description,
            price=None if product.price is None else str(product.price),
            active=product.active,
            created_at=product.created_at,
            updated_at=product.updated_at,
        )

    @classmethod
    def sample(cls) -> ProductData:
        return cls.of(
            Product(
                id=0,
                sku="SAMPLE-1",
                name="Sample product",
                description="A test event",
                price=Decimal("9.99"),
                active=True,
                created_at=_SAMPLE_TIME,
                updated_at=_SAMPLE_TIME,
            )
        )


class BulkDeletedData(EventPayload):
    """`products.bulk_deleted`: how many products a delete-all removed, and its job."""

    count: int
    job_id: int

    @classmethod
    def sample(cls) -> BulkDeletedData:
        return cls(count=0, job_id=0)


class ImportData(EventPayload):
    """`import.started`, `import.completed`, `import.failed`: the job and its counts
    (never its rows). `error` says why a failed import failed."""

    import_id: int
    filename: str
    status: str
    total_rows: int
    processed_rows: int
    created: int
    updated: int
    unchanged: int
    skipped: int
    error: str | None
    # The import's mode and "missing from the file" choice, and what they skipped or
    # removed (see the README's import modes).
    mode: str = "create_update"
    missing: str = "leave"
    skipped_existing: int = 0
    skipped_unknown: int = 0
    deactivated: int = 0
    deleted: int = 0

    @classmethod
    def of(cls, job: ImportJob) -> ImportData:
        return cls(
            import_id=int(job.id or 0),
            filename=job.filename,
            status=job.status,
            total_rows=job.total_rows,
            processed_rows=job.processed_rows,
            created=job.created,
            updated=job.updated,
            unchanged=job.unchanged,
            skipped=job.skipped,
            error=job.error,
            mode=job.mode,
            missing=job.missing,
            skipped_existing=job.skipped_existing,
            skipped_unknown=job.skipped_unknown,
            deactivated=job.deactivated,
            deleted=job.deleted,
        )

    @classmethod
    def sample(cls) -> ImportData:
        return cls(
            import_id=0,
            filename="sample.csv",
            status="completed",
            total_rows=0,
            processed_rows=0,
            created=0,
            updated=0,
            unchanged=0,
            skipped=0,
            error=None,
        )


class RevertedData(EventPayload):
    """`import.reverted`: an import taken back, and what its revert did: products it had
    created deleted, products it had changed given back their values before it, and the
    products changed again since the import, left alone or (restore_conflicts) restored
    too. One event per revert, never one per product."""

    import_id: int
    revert_id: int
    filename: str
    restore_conflicts: bool
    deleted: int
    restored: int
    conflicts_left: int
    conflicts_restored: int

    @classmethod
    def sample(cls) -> RevertedData:
        return cls(
            import_id=0,
            revert_id=0,
            filename="sample.csv",
            restore_conflicts=False,
            deleted=0,
            restored=0,
            conflicts_left=0,
            conflicts_restored=0,
        )


PAYLOAD_TYPES: dict[EventType, type[EventPayload]] = {
    EventType.product_created: ProductData,
    EventType.product_updated: ProductData,
    EventType.product_deleted: ProductData,
    EventType.products_bulk_deleted: BulkDeletedData,
    EventType.import_started: ImportData,
    EventType.import_completed: ImportData,
    EventType.import_failed: ImportData,
    EventType.import_reverted: RevertedData,
}

# The sample's status and error follow the event type, as a real one's do.
_SAMPLE_IMPORT = {
    EventType.import_started: {"status": "pending"},
    EventType.import_completed: {"status": "completed"},
    EventType.import_failed: {"status": "failed", "error": "sample error"},
}


def sample_payload(event_type: EventType) -> EventPayload:
    """The example payload of an event type (the Test button sends it)."""
    sample = PAYLOAD_TYPES[event_type].sample()
    return sample.model_copy(update=_SAMPLE_IMPORT.get(event_type, {}))
