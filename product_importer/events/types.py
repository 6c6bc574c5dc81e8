"""The event types (their names are a contract with webhook receivers)."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    product_created = "product.created"
    product_updated = "product.updated"
    product_deleted = "product.deleted"
    products_bulk_deleted = "products.bulk_deleted"
    import_started = "import.started"
    import_completed = "import.completed"
    import_failed = "import.failed"
    import_reverted = "import.reverted"
