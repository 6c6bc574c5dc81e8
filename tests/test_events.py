"""Domain events are recorded in the caller's transaction and announced only on commit."""

from __future__ import annotations

import psycopg
import pytest

from product_importer import db as database
from product_importer.events import NOTIFY_CHANNEL, EventType, record_event
from product_importer.events.payloads import BulkDeletedData, ProductData

PRODUCT = ProductData.sample().model_copy(update={"id": 7, "sku": "A-1"})


def _events(conn: psycopg.Connection) -> list[tuple[str, dict]]:
    return conn.execute("SELECT type, data FROM events ORDER BY id").fetchall()


def test_an_event_recorded_on_a_psycopg_connection_is_stored_and_announced_on_commit(db):
    with psycopg.connect(db.info.dsn, autocommit=True) as listener:
        listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
        with database.connect() as conn:
            event_id = record_event(conn, EventType.product_created, PRODUCT)
            assert list(listener.notifies(timeout=0.3, stop_after=1)) == []
            conn.commit()
        [note] = list(listener.notifies(timeout=5, stop_after=1))
    assert note.payload == str(event_id)
    assert _events(db) == [("product.created", PRODUCT.model_dump(mode="json"))]


def test_an_event_recorded_in_an_orm_session_is_stored(db):
    with database.session() as s:
        record_event(s, EventType.products_bulk_deleted, BulkDeletedData(count=3, job_id=1))
    assert _events(db) == [("products.bulk_deleted", {"count": 3, "job_id": 1})]


def test_a_rolled_back_change_records_no_event_and_announces_nothing(db):
    with psycopg.connect(db.info.dsn, autocommit=True) as listener:
        listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
        with pytest.raises(RuntimeError), database.session() as s:
            record_event(s, EventType.product_deleted, PRODUCT)
            raise RuntimeError("the change failed")
        assert list(listener.notifies(timeout=0.5, stop_after=1)) == []
    assert _events(db) == []


def test_an_event_must_carry_its_types_payload(db):
    with pytest.raises(TypeError, match="carries ProductData"), database.session() as s:
        record_event(s, EventType.product_created, BulkDeletedData(count=1, job_id=1))
    assert _events(db) == []
