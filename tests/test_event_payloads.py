"""Every event type's real events and the webhook Test button's sample have one shape:
real events are made through the real code paths (API, worker), samples are what the
Test button sends to a real receiver."""

from __future__ import annotations

import asyncio
from typing import Any

from product_importer.events import EventType
from tests.support import catalog, csv_bytes, import_csv, wait_for_bulk_delete, wait_for_revert


def shape(value: Any) -> Any:
    """The JSON shape of a value: its keys, recursively, and each leaf's JSON type."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        return [shape(item) for item in value]
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", str: "string"}[type(value)]


def real_events(db) -> dict[str, dict]:
    return {kind: data for kind, data in db.execute("SELECT type, data FROM events ORDER BY id")}


def make_every_real_event(client, db) -> dict[str, dict]:
    """One real event of each type, through the code paths that make them in production."""
    created = client.post(
        "/api/products", json={"sku": "EV-1", "name": "Lamp", "description": "d", "price": "2.50"}
    ).json()
    client.patch(f"/api/products/{created['id']}", json={"name": "Lamp 2"})
    client.delete(f"/api/products/{created['id']}")
    imported = import_csv(client, csv_bytes(catalog(3)))  # import.started, import.completed
    assert client.post(f"/api/imports/{imported['id']}/revert").status_code == 202
    assert wait_for_revert(client, imported["id"])["status"] == "completed"  # import.reverted
    job = client.delete("/api/products", params={"confirm": "true"}).json()
    assert wait_for_bulk_delete(client, job["id"])["status"] == "completed"
    failed_import(db)
    return real_events(db)


def failed_import(db) -> None:
    """An import whose staged rows were lost fails, in the worker's own code."""
    from product_importer.imports.actors import run_import
    from product_importer.imports.intake import receive_import
    from product_importer.imports.tables import staging_table

    async def chunks():
        yield csv_bytes(catalog(2, prefix="LOST"))

    job = asyncio.run(receive_import("lost.csv", chunks()))
    db.execute(f"TRUNCATE {staging_table(job.id).as_string(db)}")
    run_import.fn(job.id)


def test_every_sample_has_the_shape_of_the_real_event(client, db, worker, receiver) -> None:
    real = make_every_real_event(client, db)
    assert set(real) == {str(t) for t in EventType}
    hook = client.post("/api/webhooks", json={"url": receiver.url(), "events": ["*"]}).json()
    for event_type in EventType:
        answer = client.post(f"/api/webhooks/{hook['id']}/test", json={"event_type": event_type})
        assert answer.json()["ok"], answer.text
    samples = {
        r.json["type"]: r.json for r in receiver.requests() if "test" in r.headers["webhook-id"]
    }
    assert set(samples) == {str(t) for t in EventType}
    for event_type in EventType:
        sample = samples[event_type]
        assert set(sample) == {"type", "timestamp", "data"}
        assert shape(sample["data"]) == shape(real[event_type]), event_type


def test_the_bulk_deleted_sample_carries_count_and_job_id(client, receiver) -> None:
    hook = client.post("/api/webhooks", json={"url": receiver.url(), "events": ["*"]}).json()
    client.post(f"/api/webhooks/{hook['id']}/test", json={"event_type": "products.bulk_deleted"})
    [request] = receiver.requests()
    assert request.json["data"] == {"count": 0, "job_id": 0}
