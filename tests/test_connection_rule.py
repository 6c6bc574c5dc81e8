"""db.py's rule: no request is served by an unpooled connection. The API runs in this
process with `db.connect` (the unpooled kind) made to fail, and every kind of request
that touches the database still answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from product_importer import db as database
from tests.support import catalog, csv_bytes


@pytest.fixture
def api_without_unpooled_connections(db, credentials, monkeypatch) -> Iterator[TestClient]:
    def refused(*args, **kwargs):
        raise AssertionError("an unpooled connection served a request")

    monkeypatch.setattr(database, "connect", refused)
    from product_importer.api import api

    with TestClient(api, headers=credentials.bearer("admin")) as client:
        yield client


def test_every_kind_of_request_uses_pooled_connections(api_without_unpooled_connections):
    client = api_without_unpooled_connections
    upload = client.post("/api/imports", files={"file": ("c.csv", csv_bytes(catalog(5)))})
    assert upload.status_code == 202, upload.text
    job_id = upload.json()["id"]
    assert client.get(f"/api/imports/{job_id}").status_code == 200
    assert client.get("/api/imports").status_code == 200
    assert client.post(f"/api/imports/{job_id}/cancel").status_code in (200, 409)
    product = client.post("/api/products", json={"sku": "P-1", "name": "n"})
    assert product.status_code == 201, product.text
    pid = product.json()["id"]
    assert client.patch(f"/api/products/{pid}", json={"name": "m"}).status_code == 200
    assert client.get("/api/products", params={"name": "m"}).status_code == 200
    assert client.delete(f"/api/products/{pid}").status_code == 204
    hook = client.post("/api/webhooks", json={"url": "http://127.0.0.1:9/", "events": ["*"]})
    assert hook.status_code == 201, hook.text
    assert client.get(f"/api/webhooks/{hook.json()['id']}/deliveries").status_code == 200
    assert client.get("/api/users").status_code == 200
    assert client.get("/health").status_code == 200
