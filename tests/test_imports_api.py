"""Imports end to end: the HTTP API, a real Dramatiq worker, PostgreSQL and Redis."""

from __future__ import annotations

import csv
import io
import json
import os
import signal

import httpx
import psycopg
import psycopg.rows
import pytest

from product_importer.imports import jobs
from tests.conftest import TEST_ENV, start_server
from tests.support import (
    BAD_ROWS_CSV,
    BAD_ROWS_REPORT,
    catalog,
    csv_bytes,
    import_csv,
    upload,
    wait_for_job,
    wait_until,
)


def job_count(db: psycopg.Connection) -> int:
    return db.execute("SELECT count(*) FROM import_jobs").fetchone()[0]


def working_tables(db: psycopg.Connection) -> list[str]:
    rows = db.execute(
        "SELECT tablename FROM pg_tables WHERE tablename ~ '^import_(staging|dedup)_'"
    ).fetchall()
    return [r[0] for r in rows]


def test_import_creates_products_with_exact_counts(client, db, worker) -> None:
    data = csv_bytes(catalog(1000))
    job = import_csv(client, data)
    assert job["status"] == "completed", job
    assert (job["total_rows"], job["processed_rows"], job["percent"]) == (1000, 1000, 100.0)
    assert (job["created"], job["updated"], job["unchanged"], job["skipped"]) == (1000, 0, 0, 0)
    assert job["file_size"] == len(data)
    assert job["started_at"] and job["finished_at"]
    assert db.execute("SELECT count(*) FROM products").fetchone()[0] == 1000
    row = db.execute(
        "SELECT name, description, price::text, active FROM products WHERE sku = 'SKU-000007'"
    ).fetchone()
    assert row == ("Product 7", "Description of 7", "9.99", True)
    assert working_tables(db) == []


def test_reimporting_the_same_file_reports_every_product_unchanged(client, db, worker) -> None:
    data = csv_bytes(catalog(500))
    import_csv(client, data)
    before = db.execute("SELECT max(updated_at) FROM products").fetchone()[0]
    job = import_csv(client, data)
    assert (job["created"], job["updated"], job["unchanged"]) == (0, 0, 500)
    assert db.execute("SELECT max(updated_at) FROM products").fetchone()[0] == before


def test_case_variant_duplicates_in_a_file_keep_the_last_occurrence(client, db, worker) -> None:
    rows = [
        ("abc-1", "First", "d", "1", "yes"),
        ("XYZ", "Other", "d", "2", "yes"),
        ("ABC-1", "Second", "d", "3", "no"),
        ("Abc-1", "Last", "d", "4", "yes"),
    ]
    job = import_csv(client, csv_bytes(rows))
    assert (job["total_rows"], job["distinct_rows"], job["created"]) == (4, 2, 2)
    assert job["processed_rows"] == 4
    stored = db.execute("SELECT sku, name, price::text FROM products ORDER BY sku").fetchall()
    assert stored == [("Abc-1", "Last", "4.00"), ("XYZ", "Other", "2.00")]


def test_case_variant_duplicates_across_imports_update_one_product(client, db, worker) -> None:
    import_csv(client, csv_bytes([("sku-9", "Old", "d", "1", "yes"), ("keep", "K", "d", "", "")]))
    job = import_csv(
        client, csv_bytes([("SKU-9", "New", "d", "1", "yes"), ("KEEP", "K", "d", "", "")])
    )
    assert (job["created"], job["updated"], job["unchanged"]) == (0, 2, 0)
    assert db.execute("SELECT sku, name FROM products ORDER BY sku").fetchall() == [
        ("KEEP", "K"),
        ("SKU-9", "New"),
    ]


def test_duplicates_spread_over_many_batches_are_counted_once(client, db, worker) -> None:
    # 1,500 rows, batch size 200: each SKU appears three times, far apart in the file.
    rows = [(f"S{i % 500}", f"v{i}", "d", "1", "") for i in range(1500)]
    job = import_csv(client, csv_bytes(rows))
    assert (job["distinct_rows"], job["created"], job["processed_rows"]) == (500, 500, 1500)
    assert db.execute("SELECT name FROM products WHERE sku = 'S7'").fetchone() == ("v1007",)


def test_bad_rows_are_skipped_and_reported_with_line_numbers(client, db, worker) -> None:
    job = import_csv(client, BAD_ROWS_CSV)
    assert job["status"] == "completed"
    assert (job["total_rows"], job["created"], job["skipped"]) == (7, 3, 4)
    assert job["processed_rows"] == 7
    report = client.get(f"/api/imports/{job['id']}/errors.csv")
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(report.text))) == BAD_ROWS_REPORT


def test_extra_columns_are_listed_back_and_ignored(client, db, worker) -> None:
    data = csv_bytes(
        [("E1", "N", "D", "red", "1.00")], header=("SKU", "Name", "Description", "Colour", "Price")
    )
    response = upload(client, data)
    assert response.status_code == 202
    assert response.json()["extra_columns"] == ["Colour"]
    job = wait_for_job(client, response.json()["id"])
    assert job["created"] == 1


def test_semicolon_cp1252_file_imports_correctly(client, db, worker) -> None:
    data = "SKU;Name;Description;Price\nC1;Café;Crème brûlée;3,5\nC2;Thé;Größe;4\n"
    job = import_csv(client, data.encode("cp1252"))
    assert (job["created"], job["skipped"]) == (2, 0)  # "3,5": a decimal comma
    assert db.execute(
        "SELECT name, description, price::text FROM products ORDER BY sku"
    ).fetchall() == [("Café", "Crème brûlée", "3.50"), ("Thé", "Größe", "4.00")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"sku,name\nA,B\n", "missing column: description"),
        (b"sku,description\nA,B\n", "missing column: name"),
        (b"name,description\nA,B\n", "missing column: sku"),
        (b"", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    ],
)
def test_header_problems_are_rejected_before_any_job(client, db, data, message) -> None:
    response = upload(client, data)
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert job_count(db) == 0
    assert working_tables(db) == []


def test_request_without_a_file_field_is_rejected(client, db) -> None:
    response = client.post("/api/imports", data={"other": "x"}, files={"x": ("a", b"b")})
    assert response.status_code == 422
    assert "file" in response.json()["detail"]
    assert job_count(db) == 0


def test_file_over_the_size_limit_is_rejected_with_413(client, db) -> None:
    big = csv_bytes(catalog(1)) + b"X," * (3 * 1024 * 1024)  # limit is 5 MB in tests
    response = upload(client, big + big)
    assert response.status_code == 413
    assert "5 MB" in response.json()["detail"]
    assert job_count(db) == 0
    assert working_tables(db) == []


def test_unknown_job_answers_404(client, db) -> None:
    for path in ("/api/imports/999", "/api/imports/999/errors.csv", "/api/imports/999/events"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["detail"] == "import 999 not found"
    assert client.post("/api/imports/999/cancel").status_code == 404


def test_history_lists_newest_first_with_paging(client, db, worker) -> None:
    ids = [import_csv(client, csv_bytes(catalog(3)), f"f{i}.csv")["id"] for i in range(3)]
    page = client.get("/api/imports", params={"page": 1, "page_size": 2}).json()
    assert page["total"] == 3 and page["page_size"] == 2
    assert [j["id"] for j in page["items"]] == [ids[2], ids[1]]
    page2 = client.get("/api/imports", params={"page": 2, "page_size": 2}).json()
    assert [j["filename"] for j in page2["items"]] == ["f0.csv"]
    # Past the end: an empty page that still tells the total, not an error.
    page3 = client.get("/api/imports", params={"page": 3, "page_size": 2}).json()
    assert (page3["items"], page3["total"], page3["page"]) == ([], 3, 3)
    assert client.get("/api/imports", params={"page": 0}).status_code == 422
    # The browser pages through the same function the API answers from.
    found = jobs.list_jobs(page=2, page_size=2)
    assert ([j.id for j in found.items], found.total, found.page_count) == ([ids[0]], 3, 2)


def read_events(client: httpx.Client, job_id: int) -> list[dict]:
    events = []
    with client.stream("GET", f"/api/imports/{job_id}/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    return events


def test_sse_stream_follows_the_job_and_ends_with_its_terminal_status(client, db, worker) -> None:
    response = upload(client, csv_bytes(catalog(3000)))
    job_id = response.json()["id"]
    events = read_events(client, job_id)
    assert events[-1]["status"] == "completed"
    assert events[-1]["percent"] == 100.0 and events[-1]["created"] == 3000
    processed = [e["processed_rows"] for e in events]
    assert processed == sorted(processed)
    # A late client gets the current (terminal) snapshot at once, then the stream ends.
    late = read_events(client, job_id)
    assert len(late) == 1 and late[0]["status"] == "completed"


def test_cancelling_a_finished_job_answers_409(client, db, worker) -> None:
    job = import_csv(client, csv_bytes(catalog(2)))
    response = client.post(f"/api/imports/{job['id']}/cancel")
    assert response.status_code == 409
    assert "already completed" in response.json()["detail"]


def first_event(client: httpx.Client, job_id: int) -> dict:
    with client.stream("GET", f"/api/imports/{job_id}/events") as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                return json.loads(line[6:])
    raise AssertionError("the stream ended without an event")


# The stated bound: an orphaned job is taken up again within the heartbeat timeout
# (WORKER_HEARTBEAT_TIMEOUT_S, 15 s by default, 2 s in the tests) of a worker running.
RECOVERY_BOUND_S = 30


def test_worker_killed_mid_import_resumes_with_exact_counts(client, db, worker) -> None:
    rows = catalog(20_000) + [(f"sku-{i:06d}", "again", "d", "1", "") for i in range(0, 20_000, 4)]
    response = upload(client, csv_bytes(rows))
    job_id = response.json()["id"]

    def some_batches_done() -> bool:
        job = client.get(f"/api/imports/{job_id}").json()
        return job["stage"] == "applying" and 0 < job["processed_rows"] < job["total_rows"] - 5000

    wait_until(some_batches_done, timeout=60, what="the import to be half applied")
    assert client.get(f"/api/imports/{job_id}").json()["waiting_for_worker"] is False
    worker.kill(signal.SIGKILL)
    # No worker holds it: the API, the SSE stream (and so the page) say it waits for one,
    # once the dead worker's database session has ended (its backend finishes the
    # statement it was running first, then sees the client gone and drops the claim).
    wait_until(
        lambda: client.get(f"/api/imports/{job_id}").json()["waiting_for_worker"],
        timeout=30,
        what="the killed worker's claim to end",
    )
    halfway = client.get(f"/api/imports/{job_id}").json()
    assert halfway["status"] == "processing"
    assert halfway["waiting_for_worker"] is True
    assert first_event(client, job_id)["waiting_for_worker"] is True
    refused = client.delete("/api/products", params={"confirm": "true"})
    assert refused.status_code == 409
    assert "waiting for a worker" in refused.json()["detail"]

    worker.ensure_running()
    wait_until(
        lambda: (
            client.get(f"/api/imports/{job_id}").json()["processed_rows"]
            > halfway["processed_rows"]
            or client.get(f"/api/imports/{job_id}").json()["status"] == "completed"
        ),
        timeout=RECOVERY_BOUND_S,
        what="a worker to take the import up again",
    )
    job = wait_for_job(client, job_id, timeout=120)
    assert job["status"] == "completed", job
    assert job["waiting_for_worker"] is False
    assert (job["total_rows"], job["processed_rows"]) == (25_000, 25_000)
    assert (job["distinct_rows"], job["created"], job["updated"], job["unchanged"]) == (
        20_000,
        20_000,
        0,
        0,
    )
    # Every batch was committed exactly once.
    assert sorted(job_row(db, job_id)["done_batches"]) == list(range(1, 101))
    assert db.execute("SELECT count(*) FROM products").fetchone()[0] == 20_000
    assert db.execute("SELECT count(*) FROM products WHERE name = 'again'").fetchone()[0] == 5000
    assert working_tables(db) == []
    # And delete-all is no longer refused.
    assert client.delete("/api/products", params={"confirm": "true"}).status_code == 202


def job_row(db: psycopg.Connection, job_id: int) -> dict:
    with db.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute("SELECT * FROM import_jobs WHERE id = %s", (job_id,)).fetchone()


def test_health_reports_database_and_redis(client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_health_answers_503_naming_redis_when_it_is_down(logs) -> None:
    env = {**os.environ, **TEST_ENV, "REDIS_URL": "redis://127.0.0.1:1/0"}
    proc, base = start_server(env, logs / "api-no-redis.log")
    try:
        response = httpx.get(base + "/health", timeout=30)
        assert response.status_code == 503
        assert response.json()["database"] == "ok"
        assert response.json()["redis"].startswith("unreachable")
    finally:
        proc.stop()


def test_openapi_documents_the_import_routes(client) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in (
        "/api/imports",
        "/api/imports/{job_id}",
        "/api/imports/{job_id}/events",
        "/api/imports/{job_id}/errors.csv",
        "/api/imports/{job_id}/cancel",
        "/health",
    ):
        assert path in paths
    assert client.get("/api/docs").status_code == 200


def test_mixed_reimport_counts_new_changed_and_unchanged_products(client, db, worker) -> None:
    first = [("A", "a", "d", "1", ""), ("B", "b", "d", "2", ""), ("C", "c", "d", "3", "")]
    import_csv(client, csv_bytes(first))
    second = [
        ("A", "a", "d", "1", ""),
        ("B", "b2", "d", "2", ""),
        ("C", "c", "d", "3", ""),
        ("D", "d", "d", "4", ""),
    ]
    job = import_csv(client, csv_bytes(second))
    assert (job["created"], job["updated"], job["unchanged"]) == (1, 1, 2)
    assert job["processed_rows"] == job["total_rows"] == 4
    assert db.execute("SELECT sku, name FROM products ORDER BY sku").fetchall() == [
        ("A", "a"),
        ("B", "b2"),
        ("C", "c"),
        ("D", "d"),
    ]


def test_the_template_downloads_and_imports_as_is_with_two_created(client, db, worker) -> None:
    response = client.get("/api/imports/template.csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="products-template.csv"' in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["sku", "name", "description", "price", "active"]
    assert len(rows) == 3
    job = import_csv(client, response.content, "products-template.csv")
    assert (job["status"], job["created"], job["skipped"]) == ("completed", 2, 0), job
    assert db.execute("SELECT count(*) FROM products").fetchone() == (2,)
