"""Domain events: what happened to the catalog, recorded in the same transaction as the change.

`record_event` is the one way to record an event. It also sends a PostgreSQL NOTIFY on the
`events` channel; PostgreSQL delivers it only when the transaction commits, so a listener
(webhook delivery) never hears of a change that was rolled back.
"""

from __future__ import annotations

import psycopg
from sqlalchemy import text
from sqlmodel import Session

from product_importer.events.payloads import PAYLOAD_TYPES, EventPayload
from product_importer.events.types import EventType

__all__ = ["EventPayload", "EventType", "record_event"]

NOTIFY_CHANNEL = "events"


_INSERT = (
    "WITH e AS (INSERT INTO events (type, data)"
    " VALUES (%(type)s, CAST(%(data)s AS jsonb)) RETURNING id)"
    " SELECT id, pg_notify('" + NOTIFY_CHANNEL + "', id::text) FROM e"
)


def record_event(db: Session | psycopg.Connection, type: EventType, data: EventPayload) -> int:
    """Record an event inside the caller's open transaction (ORM session or psycopg
    connection) and return its id. Nothing is recorded if that transaction rolls back.
    `data` must be the event type's payload type (see events.payloads)."""
    expected = PAYLOAD_TYPES[EventType(type)]
    if not isinstance(data, expected):
        raise TypeError(f"a {type} event carries {expected.__name__}, not {type_name(data)}")
    params = {"type": str(type), "data": data.model_dump_json()}
    if isinstance(db, psycopg.Connection):
        row = db.execute(_INSERT, params).fetchone()
        assert row is not None
        return int(row[0])
    sql = _INSERT.replace("%(type)s", ":type").replace("%(data)s", ":data")
    return int(db.execute(text(sql), params).scalar_one())


def type_name(value: object) -> str:
    return type(value).__name__
