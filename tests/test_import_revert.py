"""Reverting an import, through the API with the real worker: the catalog comes back as
it was before the import, products changed since are listed and left alone (or
restored on request), counts are exact, one `import.reverted` event reaches a real
receiver; also after a worker was killed mid-import, and for a cancelled import."""

from __future__ import annotations

import signal
from decimal import Decimal

import httpx
import psycopg
import pytest

from tests.support import (
    catalog,
    csv_bytes,
    import_csv,
    upload,
    wait_for_job,
    wait_for_revert,
    wait_until,
)

Catalog = dict[str, tuple]


def products(db: psycopg.Connection) -> Catalog:
    """The whole catalog: lower(sku) -> (sku, name, description, price, active)."""
    rows = db.execute("SELECT sku, name, description, price, active FROM products").fetchall()
    return {row[0].lower(): tuple(row) for row in rows}


def file_a() -> bytes:
    return csv_bytes(catalog(400))


def file_b() -> bytes:
    """Updates the first half of A's products, repeats 50 unchanged, creates 300."""
    updates = [(f"SKU-{i:06d}", f"B {i}", "from B", "5.00", "false") for i in range(200)]
    same = catalog(400)[200:250]
    return csv_bytes(updates + same + catalog(300, prefix="NEW"))


def product_id(client: httpx.Client, sku: str) -> int:
    found = client.get("/api/products", params={"sku": sku}).json()["items"]
    [product] = [p for p in found if p["sku"] == sku]
    return int(product["id"])


def hand_edit(client: httpx.Client, sku: str, **fields) -> None:
    response = client.patch(f"/api/products/{product_id(client, sku)}", json=fields)
    assert response.status_code == 200, response.text


def hand_delete(client: httpx.Client, sku: str) -> None:
    assert client.delete(f"/api/products/{product_id(client, sku)}").status_code == 204


def edit_by_hand(client: httpx.Client) -> set[str]:
    """Edit and delete some of B's products (and one B left alone); answer the keys B
    changed that were changed since (a product B created and that was deleted since is
    none: the revert would delete it)."""
    for i in range(5):
        hand_edit(client, f"SKU-{i:06d}", name=f"hand {i}")  # B updated them
        hand_edit(client, f"NEW-{i:06d}", name=f"hand new {i}")  # B created them
    hand_edit(client, "SKU-000300", price="1.25")  # B did not touch it
    hand_delete(client, "SKU-000010")  # B updated it: restoring it would make it again
    hand_delete(client, "NEW-000010")  # B created it: gone already, no conflict
    return {f"sku-{i:06d}" for i in range(5)} | {f"new-{i:06d}" for i in range(5)} | {"sku-000010"}


def revert(client: httpx.Client, import_id: int, **body) -> dict:
    response = client.post(f"/api/imports/{import_id}/revert", json=body or None)
    assert response.status_code == 202, response.text
    assert response.json()["import_id"] == import_id
    return wait_for_revert(client, import_id)


def counts(revert_job: dict) -> tuple[int, int, int, int]:
    return (
        revert_job["deleted"],
        revert_job["restored"],
        revert_job["conflicts_left"],
        revert_job["conflicts_restored"],
    )


def test_revert_gives_back_the_catalog_before_and_leaves_later_edits_alone(
    client, db, worker, receiver
) -> None:
    hook = client.post(
        "/api/webhooks", json={"url": receiver.url(), "events": ["import.reverted"]}
    ).json()
    import_csv(client, file_a())
    after_a = products(db)
    b = import_csv(client, file_b())
    assert (b["created"], b["updated"], b["unchanged"]) == (300, 200, 50)
    assert b["revertible"] is True and b["reverted_at"] is None
    conflicting = edit_by_hand(client)
    edited = products(db)

    # Before the revert: what it would leave alone.
    report = client.get(f"/api/imports/{b['id']}/revert", params={"page_size": 500}).json()
    assert report["revert"] is None
    assert report["conflicts"]["total"] == len(conflicting) == 11
    assert {c["key"] for c in report["conflicts"]["items"]} == conflicting

    done = revert(client, b["id"])
    assert done["status"] == "completed", done
    # 300 created: 5 were edited since, 1 deleted; 200 updated: 6 were edited or deleted.
    assert counts(done) == (294, 194, 11, 0)
    assert (done["total"], done["processed"], done["percent"]) == (500, 500, 100.0)

    # The catalog is A's, plus the hand edits (and without the product deleted by hand).
    expected = dict(after_a)
    for key in conflicting | {"sku-000300"}:
        expected.pop(key, None)
        if key in edited:
            expected[key] = edited[key]
    assert products(db) == expected
    assert products(db)["sku-000000"][1] == "hand 0"
    assert products(db)["sku-000300"][3] == Decimal("1.25")
    assert products(db)["new-000001"][1] == "hand new 1"

    # The conflicts, as the revert found them, paged.
    first = client.get(f"/api/imports/{b['id']}/revert", params={"page_size": 5}).json()
    assert first["revert"]["id"] == done["id"]
    assert (first["conflicts"]["total"], len(first["conflicts"]["items"])) == (11, 5)
    everything = client.get(f"/api/imports/{b['id']}/revert", params={"page_size": 50}).json()
    listed = {c["key"]: c for c in everything["conflicts"]["items"]}
    assert set(listed) == conflicting
    assert listed["sku-000000"]["change"] == "updated"
    assert listed["sku-000000"]["before"]["name"] == "Product 0"
    assert listed["sku-000000"]["current"]["name"] == "hand 0"
    assert listed["sku-000010"]["current"] is None
    assert listed["new-000002"]["change"] == "created"
    assert listed["new-000002"]["before"] is None
    assert "new-000010" not in listed
    assert all(c["restored"] is False for c in listed.values())

    # The import shows as reverted; a second revert is refused.
    assert client.get(f"/api/imports/{b['id']}").json()["reverted_at"] is not None
    again = client.post(f"/api/imports/{b['id']}/revert")
    assert again.status_code == 409
    assert "already reverted" in again.json()["detail"]

    # One event, with the counts, at a real receiver.
    [request] = receiver.wait_for(1)
    assert request.json["type"] == "import.reverted"
    assert request.json["data"] == {
        "import_id": b["id"],
        "revert_id": done["id"],
        "filename": "catalog.csv",
        "restore_conflicts": False,
        "deleted": 294,
        "restored": 194,
        "conflicts_left": 11,
        "conflicts_restored": 0,
    }
    assert len(client.get(f"/api/webhooks/{hook['id']}/deliveries").json()["items"]) == 1


def test_revert_with_restore_conflicts_gives_back_exactly_the_catalog_before(
    client, db, worker
) -> None:
    import_csv(client, file_a())
    after_a = products(db)
    b = import_csv(client, file_b())
    conflicting = edit_by_hand(client)

    done = revert(client, b["id"], restore_conflicts=True)
    assert done["status"] == "completed", done
    assert counts(done) == (294, 194, 0, 11)
    # Only the hand edit of a product B did not touch stays.
    expected = dict(after_a)
    expected["sku-000300"] = (
        "SKU-000300",
        "Product 300",
        "Description of 300",
        Decimal("1.25"),
        True,
    )
    assert products(db) == expected
    listed = client.get(f"/api/imports/{b['id']}/revert", params={"page_size": 50}).json()
    assert {c["key"] for c in listed["conflicts"]["items"]} == conflicting
    assert all(c["restored"] is True for c in listed["conflicts"]["items"])


def test_revert_after_a_worker_was_killed_mid_import_is_exact(client, db, worker) -> None:
    import_csv(client, csv_bytes(catalog(6000)))
    after_a = products(db)
    changed = [(f"SKU-{i:06d}", "changed", "d", "1.00", "true") for i in range(6000)]
    response = upload(client, csv_bytes(changed + catalog(6000, prefix="NEW")))
    job_id = response.json()["id"]

    def some_batches_done() -> bool:
        job = client.get(f"/api/imports/{job_id}").json()
        return job["stage"] == "applying" and 0 < job["processed_rows"] < job["total_rows"] - 3000

    wait_until(some_batches_done, timeout=60, what="the import to be half applied")
    worker.kill(signal.SIGKILL)
    worker.ensure_running()
    b = wait_for_job(client, job_id, timeout=120)
    assert (b["status"], b["created"], b["updated"]) == ("completed", 6000, 6000), b
    # One before-image per product updated, each created one in a batch's range: none
    # lost, none twice.
    assert db.execute(
        "SELECT count(*), count(DISTINCT key) FROM import_before_images WHERE job_id = %s",
        (job_id,),
    ).fetchone() == (6000, 6000)
    assert db.execute(
        "SELECT sum(created) FROM import_created_ranges WHERE job_id = %s", (job_id,)
    ).fetchone() == (6000,)

    done = revert(client, job_id)
    assert counts(done) == (6000, 6000, 0, 0), done
    assert products(db) == after_a


def test_a_cancelled_import_reverts_what_it_applied(client, db, worker) -> None:
    import_csv(client, csv_bytes(catalog(300)))
    after_a = products(db)
    changed = [(f"SKU-{i:06d}", "changed", "d", "1.00", "true") for i in range(300)]
    response = upload(client, csv_bytes(changed + catalog(20_000, prefix="NEW")))
    job_id = response.json()["id"]
    wait_until(
        lambda: client.get(f"/api/imports/{job_id}").json()["created"] > 0,
        timeout=60,
        what="the import to create products",
    )
    assert client.post(f"/api/imports/{job_id}/cancel").status_code == 200
    b = wait_for_job(client, job_id)
    assert b["status"] == "cancelled" and 0 < b["created"] < 20_000, b

    done = revert(client, job_id)
    assert done["status"] == "completed"
    assert counts(done) == (b["created"], b["updated"], 0, 0)
    assert products(db) == after_a


def test_what_cannot_be_reverted_answers_409_saying_why(client, db, worker) -> None:
    assert client.post("/api/imports/999999/revert").status_code == 404
    preview = client.post(
        "/api/imports",
        files={"file": ("p.csv", csv_bytes(catalog(3)), "text/csv")},
        params={"dry_run": "true"},
    ).json()
    wait_until(
        lambda: client.get(f"/api/imports/{preview['id']}").json()["stage"] == "previewed",
        timeout=60,
        what="the preview",
    )
    refused = client.post(f"/api/imports/{preview['id']}/revert")
    assert refused.status_code == 409
    assert "preview that was never applied" in refused.json()["detail"]
    client.post(f"/api/imports/{preview['id']}/discard")
    assert client.post(f"/api/imports/{preview['id']}/revert").status_code == 409

    bad = client.post(f"/api/imports/{preview['id']}/revert", json={"restore": True})
    assert bad.status_code == 422

    old = import_csv(client, csv_bytes(catalog(3)))
    db.execute(
        "UPDATE import_jobs SET finished_at = now() - interval '8 days' WHERE id = %s",
        (old["id"],),
    )
    refused = client.post(f"/api/imports/{old['id']}/revert")
    assert refused.status_code == 409
    assert "more than 7 days ago" in refused.json()["detail"]

    # The worker's cleanup (on its next import's run) removes the old before-images.
    import_csv(client, csv_bytes(catalog(2, prefix="LATER")))
    assert db.execute(
        "SELECT count(*) FROM import_before_images WHERE job_id = %s", (old["id"],)
    ).fetchone() == (0,)
    assert client.get(f"/api/imports/{old['id']}").json()["revertible"] is False
    assert client.post(f"/api/imports/{old['id']}/revert").status_code == 409


def test_one_revert_at_a_time_per_import(client, db, worker) -> None:
    job = import_csv(client, csv_bytes(catalog(2000)))
    first = client.post(f"/api/imports/{job['id']}/revert")
    assert first.status_code == 202
    second = client.post(f"/api/imports/{job['id']}/revert")
    assert second.status_code == 409
    assert f"revert {first.json()['id']}" in second.json()["detail"]
    assert wait_for_revert(client, job["id"])["deleted"] == 2000
    assert products(db) == {}


def test_a_cancelled_revert_is_started_again_where_it_stopped(client, db, worker) -> None:
    import_csv(client, csv_bytes(catalog(100)))
    after_a = products(db)
    b = import_csv(client, csv_bytes(catalog(100) + catalog(1000, prefix="NEW")))
    worker.kill(signal.SIGKILL)  # so that the revert waits for a worker
    queued = client.post(f"/api/imports/{b['id']}/revert")
    assert queued.status_code == 202 and queued.json()["status"] == "pending"
    cancelled = client.post(f"/api/imports/{b['id']}/revert/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = client.post(f"/api/imports/{b['id']}/revert/cancel")
    assert again.status_code == 409 and "already cancelled" in again.json()["detail"]
    assert client.get(f"/api/imports/{b['id']}").json()["reverted_at"] is None

    worker.ensure_running()
    resumed = client.post(f"/api/imports/{b['id']}/revert")
    assert resumed.status_code == 202
    assert resumed.json()["id"] == queued.json()["id"]  # the same revert, started again
    done = wait_for_revert(client, b["id"])
    assert (done["status"], *counts(done)) == ("completed", 1000, 0, 0, 0)
    assert products(db) == after_a


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        # (deleted, restored): B updates 100 of A's 300, creates 50, and...
        ({"missing": "deactivate"}, (50, 300)),  # ...deactivates the other 200
        ({"missing": "delete", "confirm_delete_missing": "true"}, (50, 300)),  # ...deletes them
        ({"mode": "update_only"}, (0, 100)),  # ...creates nothing
        ({"mode": "create_only"}, (50, 0)),  # ...updates nothing
    ],
)
def test_every_mode_and_missing_choice_reverts_to_the_catalog_before(
    client, db, worker, params, expected
) -> None:
    import_csv(client, csv_bytes(catalog(300)))
    after_a = products(db)
    changed = [(f"SKU-{i:06d}", "changed", "d", "1.00", "false") for i in range(100)]
    response = client.post(
        "/api/imports",
        params=params,
        files={"file": ("b.csv", csv_bytes(changed + catalog(50, prefix="NEW")), "text/csv")},
    )
    assert response.status_code == 202, response.text
    b = wait_for_job(client, response.json()["id"])
    assert b["status"] == "completed" and products(db) != after_a

    done = revert(client, b["id"])
    assert (done["deleted"], done["restored"], done["conflicts_left"]) == (*expected, 0), done
    assert products(db) == after_a


def test_revert_after_its_worker_was_killed_mid_revert_is_exact(client, db, worker) -> None:
    import_csv(client, csv_bytes(catalog(10_000)))
    after_a = products(db)
    changed = [(f"SKU-{i:06d}", "changed", "d", "1.00", "true") for i in range(10_000)]
    b = import_csv(client, csv_bytes(changed + catalog(10_000, prefix="NEW")))
    assert client.post(f"/api/imports/{b['id']}/revert").status_code == 202

    def halfway() -> bool:
        revert_job = client.get(f"/api/imports/{b['id']}/revert").json()["revert"]
        return 0 < revert_job["processed"] < revert_job["total"] - 5000

    wait_until(halfway, timeout=60, what="the revert to be half done")
    worker.kill(signal.SIGKILL)
    worker.ensure_running()
    done = wait_for_revert(client, b["id"], timeout=120)
    assert (done["status"], *counts(done)) == ("completed", 10_000, 10_000, 0, 0), done
    assert done["processed"] == done["total"] == 20_000
    assert products(db) == after_a


def test_reverting_the_later_import_first_leaves_the_earlier_one_revertible_cleanly(
    client, db, worker
) -> None:
    """A revert gives back updated_at with the values: A's products are as A left them
    once B is reverted, so A's revert finds no conflict."""
    a = import_csv(client, file_a())
    b = import_csv(client, file_b())
    assert counts(revert(client, b["id"])) == (300, 200, 0, 0)
    assert db.execute(
        "SELECT count(*) FROM products WHERE updated_at <> created_at"
    ).fetchone() == (0,)
    assert client.get(f"/api/imports/{a['id']}/revert").json()["conflicts"]["total"] == 0
    assert counts(revert(client, a["id"])) == (400, 0, 0, 0)
    assert products(db) == {}
