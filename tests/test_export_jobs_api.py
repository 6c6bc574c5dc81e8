"""Export jobs through the API: `POST /api/products/exports` with the list's filters, its
progress, the file's download, cancelling, and who may see an export."""

from __future__ import annotations

import csv
import io
import re
import signal
from collections.abc import Iterator

import httpx
import pytest

from tests.support import csv_bytes, import_csv, wait_until
from tests.support import wait_for_job as wait_for_import

HEADER = ("sku", "name", "description", "price", "active")
TRICKY = [
    ("EX-1", "Chair", "plain", "9.99", "yes"),
    ("EX-2", '=HYPERLINK("http://evil.example/")', 'two\nlines, "quoted"', "", "no"),
    ("EX-3", "+Plus", "-- dash", "0", "true"),
    ("EX-4", "'quoted", "''=x", "12.5", "false"),
    ("EX-5", "Ünïcode ☕", "@home;tab\tinside", "1000000.01", ""),
    ("ex-6", "lower", "d", "3", "1"),
]
PASSWORD = "a long enough password 1"


def wait_for_export(client: httpx.Client, job_id: int, timeout: float = 60) -> dict:
    job: dict = {}

    def ended() -> bool:
        nonlocal job
        answer = client.get(f"/api/products/exports/{job_id}")
        assert answer.status_code == 200, answer.text
        job = answer.json()
        return job["status"] in ("completed", "failed", "cancelled")

    wait_until(ended, timeout=timeout, what=f"export {job_id}")
    return job


def export(client: httpx.Client, **kwargs) -> dict:
    """Ask for an export (query params or json=...), wait for it to end, answer it."""
    answer = client.post("/api/products/exports", **kwargs)
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "pending", answer.json()
    return wait_for_export(client, answer.json()["id"])


def download(client: httpx.Client, job: dict) -> str:
    assert job["status"] == "completed", job
    response = client.get(job["download_url"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert re.fullmatch(r'attachment; filename="products-\d{4}-\d\d-\d\d\.csv"', disposition)
    return response.text


def test_an_export_job_imported_back_changes_nothing(client, worker) -> None:
    first = import_csv(client, csv_bytes(TRICKY, header=HEADER))
    assert (first["status"], first["created"]) == ("completed", len(TRICKY)), first
    job = export(client)
    assert (job["total"], job["written"], job["percent"]) == (len(TRICKY), len(TRICKY), 100)
    assert job["download_url"] == f"/api/products/exports/{job['id']}/download"
    text = download(client, job)
    assert len(text.encode()) == job["size_bytes"]
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == HEADER and len(rows) == 1 + len(TRICKY)
    for row in rows[1:]:  # no cell a spreadsheet would run as a formula
        assert all(cell[:1] not in ("=", "+", "-", "@", "\t", "\r") for cell in row[:3]), row
    # The same file as the streamed export answers.
    assert text == client.get("/api/products/export").text
    again = import_csv(client, text.encode(), "products.csv")
    assert again["status"] == "completed", again
    assert (again["created"], again["updated"], again["skipped"]) == (0, 0, 0), again
    assert again["unchanged"] == len(TRICKY), again


def test_a_big_export_spans_chunks_and_imports_back_unchanged(client, db, worker) -> None:
    # About 3 MB of CSV: several of the stored chunks, read back in order.
    db.execute(
        """INSERT INTO products (sku, name, description, price, active)
           SELECT 'BIG-' || lpad(i::text, 6, '0'), 'Name ' || i, repeat('d', 150) || i,
                  i / 100.0, i % 7 <> 0
           FROM generate_series(1, 20000) AS i"""
    )
    job = export(client)
    assert (job["total"], job["written"]) == (20_000, 20_000), job
    text = download(client, job)
    lines = text.splitlines()
    assert lines[0] == ",".join(HEADER) and len(lines) == 20_001
    assert lines[1].startswith("BIG-000001,") and lines[-1].startswith("BIG-020000,")
    again = import_csv(client, text.encode(), "products.csv")
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 20_000), again


def _catalog(client: httpx.Client) -> None:
    rows = [
        (f"F-{i:03}", f"name {i}", "red" if i % 3 else "blue", str(i), "yes" if i % 2 else "no")
        for i in range(60)
    ]
    assert import_csv(client, csv_bytes(rows, header=HEADER))["status"] == "completed"


@pytest.mark.parametrize(
    "params",
    [{"description": "RED", "active": "true"}, {"q": "name 1"}, {"sku": "f-0", "active": "false"}],
)
def test_a_filtered_export_matches_the_list(client, worker, params) -> None:
    _catalog(client)
    listed = client.get("/api/products", params={**params, "page_size": 100}).json()
    job = export(client, params=params)
    assert job["filters"] == {
        **{"sku": "", "name": "", "description": "", "q": "", "active": None},
        **{k: (v == "true" if k == "active" else v) for k, v in params.items()},
    }
    exported = [r[0] for r in list(csv.reader(io.StringIO(download(client, job))))[1:]]
    assert exported == sorted(p["sku"] for p in listed["items"])
    assert len(exported) == listed["total"] == job["total"] > 0


def test_filters_as_a_json_body_are_the_lists_names(client, worker) -> None:
    _catalog(client)
    listed = client.get("/api/products", params={"description": "blue", "page_size": 100}).json()
    job = export(client, json={"description": "blue"})
    exported = [r[0] for r in list(csv.reader(io.StringIO(download(client, job))))[1:]]
    assert exported == sorted(p["sku"] for p in listed["items"]) and len(exported) == 20
    wrong = client.post("/api/products/exports", json={"colour": "blue"})
    assert wrong.status_code == 422 and "colour" in wrong.text, wrong.text
    bad = client.post("/api/products/exports", json={"active": "perhaps"})
    assert bad.status_code == 422 and "active" in bad.text, bad.text


def test_an_export_cancelled_while_it_waits_never_runs(client, worker) -> None:
    _catalog(client)
    worker.stop()
    try:
        job = client.post("/api/products/exports").json()
        assert job["waiting_for_worker"] is True, job
        cancelled = client.post(f"/api/products/exports/{job['id']}/cancel")
        assert cancelled.status_code == 202, cancelled.text
        assert cancelled.json()["status"] == "cancelled", cancelled.json()
        assert cancelled.json()["download_url"] is None
    finally:
        worker.ensure_running()
    # The worker takes the queued message, then a later export: the first stays cancelled.
    later = export(client)
    assert later["status"] == "completed", later
    first = client.get(f"/api/products/exports/{job['id']}").json()
    assert (first["status"], first["written"], first["size_bytes"]) == ("cancelled", 0, 0)
    refused = client.get(f"/api/products/exports/{job['id']}/download")
    assert refused.status_code == 409 and "cancelled" in refused.json()["detail"], refused.text
    again = client.post(f"/api/products/exports/{job['id']}/cancel")
    assert again.status_code == 409 and "already cancelled" in again.json()["detail"]


def test_an_unknown_export_is_a_json_404(client) -> None:
    for path in ("/api/products/exports/999", "/api/products/exports/999/download"):
        answer = client.get(path)
        assert answer.status_code == 404, answer.text
        assert answer.json() == {"detail": "export 999 not found"}
    answer = client.post("/api/products/exports/999/cancel")
    assert answer.status_code == 404 and answer.json()["detail"] == "export 999 not found"
    too_big = client.get(f"/api/products/exports/{2**63}")
    assert too_big.status_code == 404, too_big.text


@pytest.fixture
def editors(api_base: str, client: httpx.Client, credentials) -> Iterator[list[httpx.Client]]:
    """Two editors signed in through the API: the suite's `ed` and a new one."""
    name = f"eva{id(client)}"
    made = client.post(
        "/api/users", json={"username": name, "role": "editor", "password": PASSWORD}
    )
    assert made.status_code == 201, made.text
    signed = []
    for username, password in (("ed", credentials.editor_password), (name, PASSWORD)):
        session = httpx.Client(base_url=api_base, timeout=60)
        answer = session.post("/api/session", json={"username": username, "password": password})
        assert answer.status_code == 200, answer.text
        signed.append(session)
    yield signed
    for session in signed:
        session.close()
    client.delete(f"/api/users/{made.json()['id']}")


def test_an_editor_sees_their_own_exports_and_admins_see_all(
    client, anonymous, worker, editors
) -> None:
    ed, eva = editors
    _catalog(client)
    job = export(ed, params={"active": "true"})
    assert job["requested_by"] == "ed"
    assert download(ed, job).count("\n") == 31
    for path in ("", "/download", "/events"):
        other = eva.get(f"/api/products/exports/{job['id']}{path}")
        assert other.status_code == 404, other.text
        assert other.json() == {"detail": f"export {job['id']} not found"}
    assert eva.post(f"/api/products/exports/{job['id']}/cancel").status_code == 404
    mine = eva.post("/api/products/exports").json()["id"]
    assert [j["id"] for j in eva.get("/api/products/exports").json()["items"]] == [mine]
    assert [j["id"] for j in ed.get("/api/products/exports").json()["items"]] == [job["id"]]
    # An admin sees every export, and may download it.
    assert client.get(f"/api/products/exports/{job['id']}").json()["requested_by"] == "ed"
    everyone = client.get("/api/products/exports").json()
    assert ([j["id"] for j in everyone["items"]], everyone["total"]) == ([mine, job["id"]], 2)
    assert download(client, job).count("\n") == 31
    assert anonymous.post("/api/products/exports").status_code == 401
    assert anonymous.get(job["download_url"]).status_code == 401


def test_an_exports_events_end_with_its_end(client, worker) -> None:
    _catalog(client)
    job = export(client)
    with client.stream("GET", f"/api/products/exports/{job['id']}/events") as events:
        body = "".join(events.iter_text())
    assert '"status":"completed"' in body and '"written":60' in body, body


def test_an_ended_export_is_removed_when_its_retention_is_up(client, db, worker) -> None:
    _catalog(client)
    old = export(client)
    assert old["expires_at"] > old["finished_at"], old
    db.execute("UPDATE export_jobs SET expires_at = now() - interval '1 second'")
    assert db.execute("SELECT count(*) FROM export_chunks").fetchone() == (1,)
    # The next export's run removes every export whose time is up, with its file.
    new = export(client)
    assert client.get(f"/api/products/exports/{old['id']}").status_code == 404
    assert client.get(old["download_url"]).status_code == 404
    assert db.execute("SELECT array_agg(DISTINCT job_id) FROM export_chunks").fetchone() == (
        [new["id"]],
    )


def test_an_export_whose_worker_stopped_is_cancelled_when_a_worker_takes_it_up(
    client, db, worker
) -> None:
    _catalog(client)
    worker.stop()
    try:
        job = client.post("/api/products/exports").json()
        # As its worker left it when it died mid-way: processing, claimed by nobody.
        db.execute("UPDATE export_jobs SET status = 'processing' WHERE id = %s", (job["id"],))
        asked = client.post(f"/api/products/exports/{job['id']}/cancel").json()
        assert (asked["status"], asked["cancel_requested"]) == ("processing", True), asked
        assert asked["waiting_for_worker"] is True, asked
    finally:
        worker.ensure_running()
    ended = wait_for_export(client, job["id"])
    assert (ended["status"], ended["size_bytes"], ended["download_url"]) == ("cancelled", 0, None)
    assert db.execute("SELECT count(*) FROM export_chunks").fetchone() == (0,)


def test_an_xlsx_export_opens_as_a_workbook_and_imports_back_unchanged(client, worker) -> None:
    import openpyxl

    first = import_csv(client, csv_bytes(TRICKY, header=HEADER))
    assert first["created"] == len(TRICKY), first
    job = export(client, params={"format": "xlsx"})
    assert (job["format"], job["file_name"][-5:], job["written"]) == ("xlsx", ".xlsx", 6), job
    response = client.get(job["download_url"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.headers["content-disposition"].endswith('.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0] == HEADER and len(rows) == 1 + len(TRICKY)
    assert rows[1] == ("EX-1", "Chair", "plain", 9.99, "true")
    assert rows[2][1:3] == ('\'=HYPERLINK("http://evil.example/")', 'two\nlines, "quoted"')
    again = client.post(
        "/api/imports",
        files={"file": ("products.xlsx", response.content, "application/octet-stream")},
    )
    assert again.status_code == 202, again.text
    done = wait_for_import(client, again.json()["id"])
    assert (done["created"], done["updated"], done["skipped"]) == (0, 0, 0), done
    assert done["unchanged"] == len(TRICKY), done
    # As a JSON body, with a filter; an unknown format is refused naming it.
    active = export(client, json={"active": True, "format": "xlsx"})
    assert (active["format"], active["written"]) == ("xlsx", 4), active
    wrong = client.post("/api/products/exports", params={"format": "pdf"})
    assert wrong.status_code == 422 and "format" in wrong.text, wrong.text


def test_an_export_cancelled_while_it_runs_stops_and_keeps_no_file(client, db, worker) -> None:
    _catalog(client)
    with db.transaction():
        # Its worker takes it, then waits for the catalog to count the filter's products.
        db.execute("LOCK TABLE products IN ACCESS EXCLUSIVE MODE")
        job = client.post("/api/products/exports", params={"active": "true"}).json()
        wait_until(
            lambda: (
                client.get(f"/api/products/exports/{job['id']}").json()["status"] == "processing"
            ),
            timeout=30,
            what="the worker taking the export",
        )
        asked = client.post(f"/api/products/exports/{job['id']}/cancel")
        assert asked.status_code == 202, asked.text
        assert (asked.json()["status"], asked.json()["cancel_requested"]) == ("processing", True)
        assert asked.json()["waiting_for_worker"] is False
    ended = wait_for_export(client, job["id"])
    assert (ended["status"], ended["size_bytes"], ended["download_url"]) == ("cancelled", 0, None)
    assert db.execute("SELECT count(*) FROM export_chunks").fetchone() == (0,)


def test_a_killed_workers_export_is_written_again_by_the_next_worker(client, db, worker) -> None:
    _catalog(client)
    with db.transaction():
        db.execute("LOCK TABLE products IN ACCESS EXCLUSIVE MODE")
        job = client.post("/api/products/exports", params={"active": "true"}).json()
        wait_until(
            lambda: (
                client.get(f"/api/products/exports/{job['id']}").json()["status"] == "processing"
            ),
            timeout=30,
            what="the worker taking the export",
        )
        worker.kill(signal.SIGKILL)
    wait_until(
        lambda: client.get(f"/api/products/exports/{job['id']}").json()["waiting_for_worker"],
        timeout=30,
        what="the killed worker's claim to end",
    )
    worker.ensure_running()
    ended = wait_for_export(client, job["id"])
    assert (ended["status"], ended["total"], ended["written"]) == ("completed", 30, 30), ended
    assert download(client, ended).count("\n") == 31
