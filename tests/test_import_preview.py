"""Preview, then apply or discard, through the real API and a real worker: the counts and
the sample of changes before anything is written, nothing written until Apply, the kept
rows applied against the catalog of that moment, the staged tables gone after Discard or
expiry, and the apply order a waiting preview does not hold up."""

from __future__ import annotations

import os
import sys

import httpx
import psycopg

from tests.conftest import TEST_ENV, Process
from tests.support import csv_bytes, wait_for_job, wait_until

FIRST = [("A", "a", "d", "1.00", "yes"), ("B", "b", "d", "2.00", "yes"), ("C", "c", "d", "3", "")]
SECOND = [
    ("b", "b2", "d", "2.50", "yes"),  # changed: sku case, name, price
    ("C", "c", "d", "3", "yes"),  # unchanged
    ("D", "d", "d", "4", "yes"),  # new
    ("D", "d", "d", "4", "yes"),  # repeated
    ("", "no sku", "d", "1", "yes"),  # bad
    ("E", "e", "d", "abc", "yes"),  # bad
]


def preview(client: httpx.Client, rows, **params) -> dict:
    response = client.post(
        "/api/imports",
        params={"dry_run": "true", **params},
        files={"file": ("c.csv", csv_bytes(rows), "text/csv")},
    )
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["dry_run"] is True
    return wait_previewed(client, job["id"])


def wait_previewed(client: httpx.Client, job_id: int) -> dict:
    job: dict = {}

    def ready() -> bool:
        nonlocal job
        job = client.get(f"/api/imports/{job_id}").json()
        assert job["status"] not in ("completed", "failed"), job
        return job["stage"] == "previewed"

    wait_until(ready, timeout=60, what=f"import {job_id} previewed")
    return job


def working_tables(db: psycopg.Connection, job_id: int) -> list[str]:
    return [
        name
        for (name,) in db.execute(
            "SELECT tablename FROM pg_tables WHERE tablename IN (%s, %s)",
            (f"import_staging_{job_id}", f"import_dedup_{job_id}"),
        ).fetchall()
    ]


def products(db: psycopg.Connection) -> list[tuple]:
    return db.execute(
        "SELECT sku, name, price::text, active FROM products ORDER BY lower(sku)"
    ).fetchall()


def event_types(db: psycopg.Connection, job_id: int) -> list[str]:
    return [
        t
        for (t,) in db.execute(
            "SELECT type FROM events WHERE (data->>'import_id')::int = %s ORDER BY id", (job_id,)
        ).fetchall()
    ]


def seed(client: httpx.Client) -> None:
    response = client.post(
        "/api/imports", files={"file": ("first.csv", csv_bytes(FIRST), "text/csv")}
    )
    assert wait_for_job(client, response.json()["id"])["created"] == 3


def test_preview_counts_and_samples_then_apply_writes(client, db, worker) -> None:
    seed(client)
    before = products(db)
    job = preview(client, SECOND)
    assert job["status"] == "pending" and job["waiting_for_worker"] is False
    assert job["preview_counts"] == {
        "new": 1,
        "changed": 1,
        "unchanged": 1,
        "repeated": 1,
        "bad": 2,
        "skipped_existing": 0,
        "skipped_unknown": 0,
        "missing": 0,
    }
    assert job["preview_until"] is not None
    assert (job["created"], job["updated"], job["unchanged"]) == (0, 0, 0)
    # Nothing written, no event, and the rows kept for Apply.
    assert products(db) == before
    assert event_types(db, job["id"]) == []
    assert sorted(working_tables(db, job["id"])) == [
        f"import_dedup_{job['id']}",
        f"import_staging_{job['id']}",
    ]
    report = client.get(f"/api/imports/{job['id']}/preview").json()
    assert report["counts"] == job["preview_counts"]
    assert report["changes"] == [
        {
            "sku": "b",
            "before": {
                "sku": "B",
                "name": "b",
                "description": "d",
                "price": "2.00",
                "active": True,
            },
            "after": {
                "sku": "b",
                "name": "b2",
                "description": "d",
                "price": "2.50",
                "active": True,
            },
            "fields": ["sku", "name", "price"],
        }
    ]
    assert [(r["line"], r["reason"]) for r in report["bad_rows"]] == [
        (6, "Enter a SKU."),
        (7, "Enter the price as a number, like 19.99 (not 'abc')."),
    ]
    errors = client.get(f"/api/imports/{job['id']}/errors.csv").text.splitlines()
    assert len(errors) == 3

    applied = client.post(f"/api/imports/{job['id']}/apply")
    assert applied.status_code == 200, applied.text
    done = wait_for_job(client, job["id"])
    assert done["status"] == "completed"
    assert (done["created"], done["updated"], done["unchanged"], done["skipped"]) == (1, 1, 1, 2)
    assert done["repeated"] == 1
    assert products(db) == [
        ("A", "a", "1.00", True),
        ("b", "b2", "2.50", True),
        ("C", "c", "3.00", True),
        ("D", "d", "4.00", True),
    ]
    assert event_types(db, job["id"]) == ["import.started", "import.completed"]
    assert working_tables(db, job["id"]) == []
    # Applied once: a second Apply or a Discard is refused.
    again = client.post(f"/api/imports/{job['id']}/apply")
    assert again.status_code == 409 and "already completed" in again.json()["detail"]
    assert client.post(f"/api/imports/{job['id']}/discard").status_code == 409


def test_apply_rechecks_against_the_catalog_as_it_is_then(client, db, worker) -> None:
    seed(client)
    job = preview(client, SECOND)
    assert job["preview_counts"]["changed"] == 1
    # Meanwhile B takes the file's values and D is created by hand.
    db.execute("UPDATE products SET sku = 'b', name = 'b2', price = 2.50 WHERE sku = 'B'")
    db.execute("INSERT INTO products (sku, name, description, price) VALUES ('D', 'other', 'd', 4)")
    assert client.post(f"/api/imports/{job['id']}/apply").status_code == 200
    done = wait_for_job(client, job["id"])
    assert (done["created"], done["updated"], done["unchanged"]) == (0, 1, 2)
    assert ("D", "d", "4.00", True) in products(db)


def test_discard_writes_nothing_and_drops_the_tables(client, db, worker) -> None:
    seed(client)
    before = products(db)
    job = preview(client, SECOND, missing="deactivate")
    assert job["preview_counts"]["missing"] == 1  # A would be deactivated
    response = client.post(f"/api/imports/{job['id']}/discard")
    assert response.status_code == 200, response.text
    ended = response.json()
    assert (ended["status"], ended["stage"]) == ("cancelled", "discarded")
    assert ended["outcome"] is None
    assert products(db) == before
    assert working_tables(db, job["id"]) == []
    assert event_types(db, job["id"]) == []
    refused = client.post(f"/api/imports/{job['id']}/apply")
    assert refused.status_code == 409 and "was discarded" in refused.json()["detail"]


def test_apply_of_an_import_that_is_no_preview_is_refused(client, db, worker) -> None:
    response = client.post("/api/imports", files={"file": ("c.csv", csv_bytes(FIRST), "text/csv")})
    job = wait_for_job(client, response.json()["id"])
    refused = client.post(f"/api/imports/{job['id']}/apply")
    assert refused.status_code == 409 and "is not a preview" in refused.json()["detail"]
    assert client.post("/api/imports/999999/apply").status_code == 404


def test_a_waiting_preview_does_not_hold_up_later_imports(client, db, worker) -> None:
    waiting = preview(client, SECOND)
    later = client.post("/api/imports", files={"file": ("l.csv", csv_bytes(FIRST), "text/csv")})
    done = wait_for_job(client, later.json()["id"])
    assert done["created"] == 3
    # Applied now, it comes after the later import: its values win for B and C.
    assert client.post(f"/api/imports/{waiting['id']}/apply").status_code == 200
    applied = wait_for_job(client, waiting["id"])
    assert (applied["created"], applied["updated"], applied["unchanged"]) == (1, 1, 1)
    assert ("b", "b2", "2.50", True) in products(db)


def test_preview_with_a_mode_counts_what_that_mode_would_do(client, db, worker) -> None:
    seed(client)
    job = preview(client, SECOND, mode="update_only")
    counts = job["preview_counts"]
    assert (counts["new"], counts["changed"], counts["skipped_unknown"]) == (0, 1, 1)
    job = preview(client, SECOND, mode="create_only")
    counts = job["preview_counts"]
    assert (counts["new"], counts["changed"], counts["skipped_existing"]) == (1, 0, 2)
    assert client.get(f"/api/imports/{job['id']}/preview").json()["changes"] == []


def test_a_preview_not_applied_in_time_is_discarded_by_the_worker(
    client, db, worker_process, logs
) -> None:
    # A worker of its own whose previews last 2 seconds (the suite's worker is stopped
    # meanwhile, so the preview is this one's).
    worker_process.stop()
    short = Process(
        [sys.executable, "-m", "dramatiq", "product_importer.worker", "--processes", "1"],
        {**os.environ, **TEST_ENV, "PREVIEW_TTL_MINUTES": str(2 / 60)},
        logs / "worker-short-previews.log",
    )
    short.start()
    try:
        job = preview(client, SECOND)
        ended = wait_for_job(client, job["id"], timeout=60)
        assert (ended["status"], ended["stage"]) == ("cancelled", "discarded")
        assert ended["error"] == "not applied within 2 seconds: discarded"
        assert working_tables(db, job["id"]) == []
        assert products(db) == []
        refused = client.post(f"/api/imports/{job['id']}/apply")
        assert refused.status_code == 409
        assert "not applied within 2 seconds" in refused.json()["detail"]
    finally:
        short.stop()
        worker_process.start()
