"""A file whose headers need a mapping is kept (in PostgreSQL) while its columns are
chosen: the 422 names a `pending_upload`, and posting a mapping to it starts the import
or preview with no second upload. Only its sender may use it, and only for a while."""

from __future__ import annotations

import gzip
import os

import httpx
import pytest

from tests.conftest import TEST_ENV, start_server
from tests.support import wait_for_job

EXPORT = b"Code X,Label,Notes,Cost\r\nM-1,Chair,Oak,12.50\r\nM-2,Table,Ash,3\r\n"
COLUMNS = {"sku": "Code X", "name": "Label", "description": "Notes", "price": "Cost"}


def refused(client: httpx.Client, data: bytes = EXPORT, filename: str = "export.csv") -> dict:
    response = client.post("/api/imports", files={"file": (filename, data, "text/csv")})
    assert response.status_code == 422, response.text
    return response.json()


def products(db) -> list[tuple]:
    return db.execute(
        "SELECT sku, name, description, price::text FROM products ORDER BY sku"
    ).fetchall()


@pytest.fixture
def editor(api_base: str, db, credentials) -> httpx.Client:
    with httpx.Client(base_url=api_base, timeout=60, headers=credentials.bearer("editor")) as c:
        yield c


def test_a_mismatch_keeps_the_file_and_a_mapping_imports_it_without_a_second_upload(
    client, db, worker
) -> None:
    answer = refused(client)
    assert answer["headers_found"] == ["Code X", "Label", "Notes", "Cost"]
    kept = answer["pending_upload"]
    assert kept["id"].startswith("pu_") and kept["filename"] == "export.csv"
    assert kept["file_size"] == len(EXPORT)
    assert db.execute("SELECT count(*) FROM import_jobs").fetchone() == (0,)
    stored = db.execute(
        "SELECT sum(length(data)) FROM pending_upload_chunks WHERE upload_id = %s", (kept["id"],)
    ).fetchone()
    assert stored == (len(EXPORT),)
    shown = client.get(f"/api/imports/pending/{kept['id']}").json()
    assert shown["headers"] == ["Code X", "Label", "Notes", "Cost"]

    started = client.post(f"/api/imports/pending/{kept['id']}", json={"mapping": COLUMNS})
    assert started.status_code == 202, started.text
    job = wait_for_job(client, started.json()["id"])
    assert (job["status"], job["created"], job["filename"]) == ("completed", 2, "export.csv")
    assert products(db) == [("M-1", "Chair", "Oak", "12.50"), ("M-2", "Table", "Ash", "3.00")]
    # Used once: the kept file is gone with its bytes.
    assert db.execute("SELECT count(*) FROM pending_upload_chunks").fetchone() == (0,)
    again = client.post(f"/api/imports/pending/{kept['id']}", json={"mapping": COLUMNS})
    assert again.status_code == 404
    assert "send the file again" in again.json()["detail"]


def test_a_kept_upload_can_become_a_preview_with_a_mode(client, db, worker) -> None:
    db.execute("INSERT INTO products (sku, name, description) VALUES ('M-1', 'Old', 'Oak')")
    kept = refused(client)["pending_upload"]
    started = client.post(
        f"/api/imports/pending/{kept['id']}",
        json={"mapping": COLUMNS, "dry_run": True, "mode": "update_only"},
    )
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    from tests.support import wait_until

    wait_until(
        lambda: client.get(f"/api/imports/{job_id}").json()["stage"] == "previewed",
        timeout=60,
        what="the preview",
    )
    job = client.get(f"/api/imports/{job_id}").json()
    assert job["dry_run"] and job["mode"] == "update_only"
    assert job["preview_counts"]["changed"] == 1
    assert job["preview_counts"]["skipped_unknown"] == 1
    assert products(db) == [("M-1", "Old", "Oak", None)]


def test_a_compressed_upload_is_kept_as_sent_and_read_again(client, db, worker) -> None:
    data = gzip.compress(EXPORT)
    kept = refused(client, data, "export.csv.gz")["pending_upload"]
    assert kept["file_size"] == len(data)
    started = client.post(f"/api/imports/pending/{kept['id']}", json={"mapping": COLUMNS})
    assert wait_for_job(client, started.json()["id"])["created"] == 2


def test_a_mapping_that_does_not_fit_is_refused_and_the_file_stays_for_another_try(
    client, db, worker
) -> None:
    kept = refused(client)["pending_upload"]
    url = f"/api/imports/pending/{kept['id']}"
    bad = client.post(url, json={"mapping": {**COLUMNS, "sku": "Nope"}})
    assert bad.status_code == 422
    assert "'Nope' for sku is not in the file" in bad.json()["detail"]
    unknown_field = client.post(url, json={"mapping": {**COLUMNS, "colour": "Notes"}})
    assert unknown_field.status_code == 422
    assert "unknown fields: colour" in unknown_field.json()["detail"]
    twice = client.post(url, json={"mapping": {**COLUMNS, "name": "Code X"}})
    assert twice.status_code == 422 and "more than one field" in twice.json()["detail"]
    no_mapping = client.post(url, json={})
    assert no_mapping.status_code == 422 and "missing column" in no_mapping.json()["detail"]
    assert no_mapping.json()["pending_upload"]["id"] == kept["id"]
    save_alone = client.post(url, json={"save_as": "x"})
    assert save_alone.status_code == 422 and "send `mapping`" in save_alone.json()["detail"]
    both = client.post(url, json={"mapping": COLUMNS, "mapping_id": 1})
    assert both.status_code == 422 and "not both" in both.json()["detail"]
    no_such_saved = client.post(url, json={"mapping_id": 999})
    assert no_such_saved.status_code == 404
    assert "saved mapping 999 not found" in no_such_saved.json()["detail"]
    assert db.execute("SELECT count(*) FROM import_jobs").fetchone() == (0,)
    ok = client.post(url, json={"mapping": COLUMNS})
    assert ok.status_code == 202, ok.text
    assert wait_for_job(client, ok.json()["id"])["created"] == 2


def test_only_the_sender_may_use_a_kept_upload(client, editor, db, worker) -> None:
    kept = refused(client)["pending_upload"]
    url = f"/api/imports/pending/{kept['id']}"
    assert editor.get(url).status_code == 404
    foreign = editor.post(url, json={"mapping": COLUMNS})
    assert foreign.status_code == 404
    assert "of yours" in foreign.json()["detail"]
    assert editor.delete(url).status_code == 404
    assert client.post(url, json={"mapping": COLUMNS}).status_code == 202


def test_unknown_and_expired_handles_are_refused_and_expired_ones_dropped(
    client, db, worker
) -> None:
    unknown = client.post("/api/imports/pending/pu_nothing", json={"mapping": COLUMNS})
    assert unknown.status_code == 404 and "expired" in unknown.json()["detail"]
    kept = refused(client)["pending_upload"]
    db.execute("UPDATE pending_uploads SET expires_at = now() - interval '1 second'")
    expired = client.post(f"/api/imports/pending/{kept['id']}", json={"mapping": COLUMNS})
    assert expired.status_code == 404
    assert db.execute("SELECT count(*) FROM pending_uploads").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM pending_upload_chunks").fetchone() == (0,)


def test_the_workers_sweep_drops_expired_kept_uploads(client, db, worker) -> None:
    refused(client)
    db.execute("UPDATE pending_uploads SET expires_at = now() - interval '1 second'")
    ok = client.post(
        "/api/imports",
        files={"file": ("c.csv", b"sku,name,description\nA,a,a\n", "text/csv")},
    )
    wait_for_job(client, ok.json()["id"])
    assert db.execute("SELECT count(*) FROM pending_uploads").fetchone() == (0,)


def test_a_kept_upload_can_be_dropped_by_its_sender(client, db) -> None:
    kept = refused(client)["pending_upload"]
    assert client.delete(f"/api/imports/pending/{kept['id']}").status_code == 204
    assert db.execute("SELECT count(*) FROM pending_upload_chunks").fetchone() == (0,)


def test_a_kept_upload_is_bounded_like_any_upload(client, db) -> None:
    # The API server of the tests takes at most 5 MB (tests/conftest.py).
    big = (
        b"Code X,Label,Notes\r\n"
        + b"A-1,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,bbbbbbbbbbbbbb\r\n" * 120_000
    )
    response = client.post("/api/imports", files={"file": ("big.csv", big, "text/csv")})
    assert response.status_code == 413, response.text[:300]
    assert db.execute("SELECT count(*) FROM pending_uploads").fetchone() == (0,)


def test_another_web_process_takes_the_mapping_of_a_kept_upload(
    client, db, worker, credentials, logs
) -> None:
    # A second API server on the same database and Redis: no disk shared with the first.
    other, base = start_server({**os.environ, **TEST_ENV}, logs / "api-second.log")
    try:
        kept = refused(client)["pending_upload"]
        with httpx.Client(base_url=base, timeout=60, headers=credentials.bearer("admin")) as c:
            started = c.post(f"/api/imports/pending/{kept['id']}", json={"mapping": COLUMNS})
            assert started.status_code == 202, started.text
            assert wait_for_job(c, started.json()["id"])["created"] == 2
    finally:
        other.stop()
    assert products(db) == [("M-1", "Chair", "Oak", "12.50"), ("M-2", "Table", "Ash", "3.00")]
