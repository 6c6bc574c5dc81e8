"""Domain events: what happened to the catalog, recorded in the same transaction as the change.

`record_event` is the one way to record an event. It also sends a PostgreSQL NOTIFY on the
`events` channel; PostgreSQL delivers it only when the transaction commits, so a listener
(webhook delivery) never hears of a change that was rolled back.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

import psycopg
from sqlalchemy import text
from sqlmodel import Session

NOTIFY_CHANNEL = "events"


class EventType(StrEnum):
    product_created = "product.created"
    product_updated = "product.updated"
    product_deleted = "product.deleted"
    products_bulk_deleted = "products.bulk_deleted"
    import_started = "import.started"
    import_completed = "import.completed"
    import_failed = "import.failed"


_INSERT = (
    "WITH e AS (INSERT INTO events (type, data)"
    " VALUES (%(type)s, CAST(%(data)s AS jsonb)) RETURNING id)"
    " SELECT id, pg_notify('" + NOTIFY_CHANNEL + "', id::text) FROM e"
)


def record_event(db: Session | psycopg.Connection, type: EventType, data: dict[str, Any]) -> int:
    """Record an event inside the caller's open transaction (ORM session or psycopg
    connection) and return its id. Nothing is recorded if that transaction rolls back."""
    params = {"type": str(type), "data": json.dumps(data, default=str)}
    if isinstance(db, psycopg.Connection):
        return db.execute(_INSERT, params).fetchone()[0]
    sql = _INSERT.replace("%(type)s", ":type").replace("%(data)s", ":data")
    return db.execute(text(sql), params).scalar_one()
