"""Import modes and "missing from the file", through the real API and a real worker: exact
counts, the catalog afterwards, and the events."""

from __future__ import annotations

import httpx
import psycopg
import pytest

from tests.support import csv_bytes, wait_for_job

FIRST = [("A", "a", "d", "1", "yes"), ("B", "b", "d", "2", "yes"), ("C", "c", "d", "3", "yes")]
# B changes, C is unchanged, D and E are new, A is missing from the file.
SECOND = [
    ("b", "b2", "d", "2", "yes"),
    ("C", "c", "d", "3", "yes"),
    ("D", "d", "d", "4", "yes"),
    ("E", "e", "d", "5", "yes"),
]


def start(client: httpx.Client, rows, **params) -> httpx.Response:
    return client.post(
        "/api/imports", params=params, files={"file": ("c.csv", csv_bytes(rows), "text/csv")}
    )


def run(client: httpx.Client, rows, **params) -> dict:
    response = start(client, rows, **params)
    assert response.status_code == 202, response.text
    return wait_for_job(client, response.json()["id"])


def catalog_now(db: psycopg.Connection) -> list[tuple]:
    return db.execute("SELECT sku, name, active FROM products ORDER BY lower(sku)").fetchall()


def completed_event(db: psycopg.Connection, job_id: int) -> dict:
    rows = db.execute(
        """SELECT data FROM events
           WHERE type = 'import.completed' AND (data->>'import_id')::int = %s""",
        (job_id,),
    ).fetchall()
    assert len(rows) == 1
    return rows[0][0]


def counts(job: dict) -> tuple:
    keys = ("created", "updated", "unchanged", "skipped_existing", "skipped_unknown")
    return tuple(job[k] for k in keys) + (job["deactivated"], job["deleted"])


@pytest.fixture
def seeded(client, db, worker) -> None:
    assert run(client, FIRST)["created"] == 3


def test_create_and_update_is_the_default(client, db, seeded) -> None:
    job = run(client, SECOND)
    assert job["mode"] == "create_update" and job["missing"] == "leave"
    assert counts(job) == (2, 1, 1, 0, 0, 0, 0)
    assert catalog_now(db) == [
        ("A", "a", True),
        ("b", "b2", True),
        ("C", "c", True),
        ("D", "d", True),
        ("E", "e", True),
    ]
    event = completed_event(db, job["id"])
    assert (event["created"], event["updated"], event["unchanged"], event["mode"]) == (
        2,
        1,
        1,
        "create_update",
    )


def test_create_only_skips_and_counts_existing_skus(client, db, seeded) -> None:
    job = run(client, SECOND, mode="create_only")
    assert counts(job) == (2, 0, 0, 2, 0, 0, 0)
    assert job["outcome"] == "all_applied"
    assert catalog_now(db) == [
        ("A", "a", True),
        ("B", "b", True),
        ("C", "c", True),
        ("D", "d", True),
        ("E", "e", True),
    ]
    event = completed_event(db, job["id"])
    assert (event["created"], event["skipped_existing"], event["mode"]) == (2, 2, "create_only")


def test_update_only_skips_and_counts_unknown_skus(client, db, seeded) -> None:
    job = run(client, SECOND, mode="update_only")
    assert counts(job) == (0, 1, 1, 0, 2, 0, 0)
    assert catalog_now(db) == [("A", "a", True), ("b", "b2", True), ("C", "c", True)]
    event = completed_event(db, job["id"])
    assert (event["updated"], event["skipped_unknown"], event["mode"]) == (1, 2, "update_only")


def test_missing_products_are_deactivated(client, db, seeded) -> None:
    job = run(client, SECOND, missing="deactivate")
    assert counts(job) == (2, 1, 1, 0, 0, 1, 0)
    assert catalog_now(db)[0] == ("A", "a", False)
    assert [active for _, _, active in catalog_now(db)[1:]] == [True] * 4
    assert completed_event(db, job["id"])["deactivated"] == 1
    # Again: A is inactive already, nothing more to deactivate.
    assert run(client, SECOND, missing="deactivate")["deactivated"] == 0


def test_missing_products_are_deleted_by_an_admin_who_confirms(client, db, seeded) -> None:
    job = run(client, SECOND, missing="delete", confirm_delete_missing="true")
    assert counts(job) == (2, 1, 1, 0, 0, 0, 1)
    assert [sku for sku, _, _ in catalog_now(db)] == ["b", "C", "D", "E"]
    event = completed_event(db, job["id"])
    assert (event["deleted"], event["missing"]) == (1, "delete")


def test_update_only_with_missing_deactivate_keeps_unknown_out(client, db, seeded) -> None:
    job = run(client, SECOND, mode="update_only", missing="deactivate")
    assert counts(job) == (0, 1, 1, 0, 2, 1, 0)
    assert catalog_now(db) == [("A", "a", False), ("b", "b2", True), ("C", "c", True)]


def test_modes_over_many_batches_count_exactly(client, db, worker) -> None:
    # Batches of 200 (the tests' IMPORT_BATCH_SIZE): 1,000 known, 500 of them changed.
    known = [(f"K{i:05d}", f"n{i}", "d", "1", "yes") for i in range(1000)]
    run(client, known)
    second = [(f"K{i:05d}", f"n{i}" + ("x" if i % 2 else ""), "d", "1", "yes") for i in range(1000)]
    second += [(f"N{i:05d}", "new", "d", "1", "yes") for i in range(700)]
    job = run(client, second, mode="update_only")
    assert counts(job) == (0, 500, 500, 0, 700, 0, 0)
    job = run(client, second, mode="create_only")
    assert counts(job) == (700, 0, 0, 1000, 0, 0, 0)
    assert db.execute("SELECT count(*) FROM products").fetchone()[0] == 1700


def test_delete_missing_without_confirmation_is_refused(client, db, seeded) -> None:
    response = start(client, SECOND, missing="delete")
    assert response.status_code == 400
    assert "confirm_delete_missing=true" in response.json()["detail"]
    assert db.execute("SELECT count(*) FROM import_jobs").fetchone()[0] == 1


def test_delete_missing_is_refused_to_an_editor(api_base, credentials, db, seeded) -> None:
    with httpx.Client(base_url=api_base, headers=credentials.bearer("editor")) as editor:
        response = start(editor, SECOND, missing="delete", confirm_delete_missing="true")
        assert response.status_code == 403
        assert "admin" in response.json()["detail"]
        # Deactivating is an editor's choice to make.
        assert run(editor, SECOND, missing="deactivate")["deactivated"] == 1


@pytest.mark.parametrize(
    ("params", "named"),
    [({"mode": "upsert"}, "mode must be one of"), ({"missing": "drop"}, "missing must be one of")],
)
def test_unknown_choices_are_refused_naming_them(client, db, params, named) -> None:
    response = start(client, SECOND, **params)
    assert response.status_code == 422
    assert named in response.json()["detail"]
    assert db.execute("SELECT count(*) FROM import_jobs").fetchone()[0] == 0


def test_choices_as_form_fields(client, db, seeded) -> None:
    response = client.post(
        "/api/imports",
        data={"mode": "create_only", "missing": "deactivate"},
        files={"file": ("c.csv", csv_bytes(SECOND), "text/csv")},
    )
    assert response.status_code == 202, response.text
    job = wait_for_job(client, response.json()["id"])
    assert counts(job) == (2, 0, 0, 2, 0, 1, 0)
