"""Products through the HTTP API against real PostgreSQL: list, filters, sort, CRUD, errors,
domain events, and delete-all on a real worker."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from datetime import datetime

import httpx
import psycopg
import pytest

from product_importer.catalog_guard import CATALOG_LOCK
from product_importer.products.listing import COUNT_CAP
from tests.support import catalog, csv_bytes, import_csv, upload, wait_for_bulk_delete, wait_until


def seed(db: psycopg.Connection, rows: list[tuple]) -> None:
    """Store (sku, name, description, price, active) rows directly."""
    with db.cursor() as cur:
        cur.executemany(
            "INSERT INTO products (sku, name, description, price, active) VALUES (%s,%s,%s,%s,%s)",
            rows,
        )


def seed_many(db: psycopg.Connection, n: int) -> None:
    db.execute(
        """INSERT INTO products (sku, name, description, price, active)
           SELECT 'GEN-' || lpad(i::text, 6, '0'), 'Generated ' || i, 'Row ' || i, i %% 100,
                  i %% 3 <> 0
           FROM generate_series(1, %s) AS i""",
        (n,),
    )


CATALOG = [
    ("OAK-1", "Oak table", "Solid oak, seats six", "250.00", True),
    ("oak-2", "Oak chair", "Matches the oak table", "80.00", True),
    ("PINE-1", "Pine shelf", "Five shelves of pine", "45.50", False),
    ("LAMP-1", "Brass lamp", "A lamp with a 100% brass foot", "30.00", True),
    ("LAMP_2", "Glass lamp", "Frosted glass shade", None, False),
]


@pytest.fixture
def shop(db: psycopg.Connection) -> psycopg.Connection:
    seed(db, CATALOG)
    return db


def skus(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["sku"] for item in response.json()["items"]]


def events(db: psycopg.Connection) -> list[tuple[str, dict]]:
    return db.execute("SELECT type, data FROM events ORDER BY id").fetchall()


# --- list: pages ----------------------------------------------------------------------


def test_an_empty_catalog_answers_an_empty_page(client) -> None:
    body = client.get("/api/products").json()
    assert body == {"items": [], "total": 0, "total_is_exact": True, "page": 1, "page_size": 50}


def test_pages_split_the_catalog_without_gaps_or_overlaps(client, db) -> None:
    seed_many(db, 120)
    seen: list[str] = []
    for page in (1, 2, 3):
        body = client.get("/api/products", params={"page": page, "page_size": 50}).json()
        assert (body["total"], body["total_is_exact"], body["page"]) == (120, True, page)
        seen += [item["sku"] for item in body["items"]]
    assert len(seen) == 120 and len(set(seen)) == 120
    assert seen == sorted(seen)
    last = client.get("/api/products", params={"page": 3, "page_size": 50}).json()
    assert len(last["items"]) == 20
    beyond = client.get("/api/products", params={"page": 4, "page_size": 50}).json()
    assert (beyond["items"], beyond["total"]) == ([], 120)


def test_an_item_has_every_field(client, shop) -> None:
    [item] = client.get("/api/products", params={"sku": "pine"}).json()["items"]
    assert set(item) == {
        "id",
        "sku",
        "name",
        "description",
        "price",
        "active",
        "created_at",
        "updated_at",
    }
    assert (item["sku"], item["name"], item["price"], item["active"]) == (
        "PINE-1",
        "Pine shelf",
        "45.50",
        False,
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": 0}, "page"),
        ({"page": "x"}, "page"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 501}, "page_size"),
        ({"active": "perhaps"}, "active"),
    ],
)
def test_bad_paging_or_filter_parameters_are_422_naming_them(client, params, field) -> None:
    response = client.get("/api/products", params=params)
    assert response.status_code == 422
    assert field in json.dumps(response.json()["detail"])


def test_the_largest_page_size_is_allowed(client, db) -> None:
    seed_many(db, 510)
    body = client.get("/api/products", params={"page_size": 500}).json()
    assert (len(body["items"]), body["total"]) == (500, 510)


def test_past_the_count_cap_a_filtered_total_is_an_estimate_and_says_so(client, db) -> None:
    seed_many(db, COUNT_CAP + 500)
    db.execute("ANALYZE products")
    body = client.get("/api/products", params={"page_size": 10, "q": "gen"}).json()
    assert body["total_is_exact"] is False
    assert body["total"] > COUNT_CAP
    unfiltered = client.get("/api/products", params={"page_size": 10}).json()
    assert (unfiltered["total"], unfiltered["total_is_exact"]) == (COUNT_CAP + 500, True)
    narrowed = client.get("/api/products", params={"sku": "GEN-0001"}).json()
    assert (narrowed["total"], narrowed["total_is_exact"]) == (100, True)


def test_with_an_estimated_total_every_page_stays_reachable_and_the_last_is_exact(
    client, db
) -> None:
    seed_many(db, COUNT_CAP + 250)
    db.execute("ANALYZE products")
    pages = {"q": "gen", "page_size": 500}
    second = client.get("/api/products", params={**pages, "page": 2}).json()
    assert len(second["items"]) == 500 and second["total_is_exact"] is False
    assert second["total"] > 1000  # at least one more product may follow a full page
    last = client.get("/api/products", params={**pages, "page": 3}).json()
    assert len(last["items"]) == COUNT_CAP + 250 - 1000
    assert (last["total"], last["total_is_exact"]) == (COUNT_CAP + 250, True)


# --- list: filters and sort -------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"sku": "oak"}, ["OAK-1", "oak-2"]),
        ({"sku": "OAK-"}, ["OAK-1", "oak-2"]),
        ({"name": "LAMP"}, ["LAMP-1", "LAMP_2"]),
        ({"description": "oak"}, ["OAK-1", "oak-2"]),
        ({"description": "SHELVES"}, ["PINE-1"]),
        ({"active": "true"}, ["LAMP-1", "OAK-1", "oak-2"]),
        ({"active": "false"}, ["LAMP_2", "PINE-1"]),
        ({"q": "pine"}, ["PINE-1"]),  # in the SKU, name and description
        ({"q": "glass"}, ["LAMP_2"]),  # in the name only
        ({"q": "six"}, ["OAK-1"]),  # in the description only
        ({"sku": "nothing-like-this"}, []),
        ({"sku": "  "}, ["LAMP-1", "LAMP_2", "OAK-1", "oak-2", "PINE-1"]),  # blank = any
    ],
)
def test_each_filter_alone_matches_a_substring_in_any_letter_case(
    client, shop, params, expected
) -> None:
    response = client.get("/api/products", params=params)
    assert skus(response) == expected
    assert response.json()["total"] == len(expected)


def test_like_wildcards_in_a_filter_match_literally(client, shop) -> None:
    assert skus(client.get("/api/products", params={"sku": "_"})) == ["LAMP_2"]
    assert skus(client.get("/api/products", params={"description": "100%"})) == ["LAMP-1"]
    assert skus(client.get("/api/products", params={"name": "%"})) == []


def test_filters_combine(client, shop) -> None:
    both = {"name": "oak", "description": "OAK"}
    assert skus(client.get("/api/products", params=both)) == ["OAK-1", "oak-2"]
    assert skus(client.get("/api/products", params={**both, "sku": "2"})) == ["oak-2"]
    lamps = {"name": "lamp", "active": "false"}
    assert skus(client.get("/api/products", params=lamps)) == ["LAMP_2"]
    assert skus(client.get("/api/products", params={"q": "oak", "active": "false"})) == []
    everything = {"sku": "1", "name": "o", "description": "o", "q": "a", "active": "true"}
    assert skus(client.get("/api/products", params=everything)) == ["OAK-1"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("sku", ["LAMP-1", "LAMP_2", "OAK-1", "oak-2", "PINE-1"]),
        ("-sku", ["PINE-1", "oak-2", "OAK-1", "LAMP_2", "LAMP-1"]),
        ("name", ["LAMP-1", "LAMP_2", "oak-2", "OAK-1", "PINE-1"]),
        ("-name", ["PINE-1", "OAK-1", "oak-2", "LAMP_2", "LAMP-1"]),
        ("price", ["LAMP-1", "PINE-1", "oak-2", "OAK-1", "LAMP_2"]),  # no price last
        ("-price", ["LAMP_2", "OAK-1", "oak-2", "PINE-1", "LAMP-1"]),
        ("active", ["PINE-1", "LAMP_2", "OAK-1", "oak-2", "LAMP-1"]),  # then by id
        ("id", ["OAK-1", "oak-2", "PINE-1", "LAMP-1", "LAMP_2"]),
        ("-created_at", ["LAMP_2", "LAMP-1", "PINE-1", "oak-2", "OAK-1"]),
        ("updated_at", ["OAK-1", "oak-2", "PINE-1", "LAMP-1", "LAMP_2"]),
    ],
)
def test_sort_by_each_column_both_ways(client, shop, sort, expected) -> None:
    assert skus(client.get("/api/products", params={"sort": sort})) == expected


def test_sort_and_filter_and_pages_together(client, db) -> None:
    seed_many(db, 300)
    params = {"active": "true", "sort": "-price", "page_size": 7}
    first = client.get("/api/products", params={**params, "page": 1}).json()
    second = client.get("/api/products", params={**params, "page": 2}).json()
    prices = [float(i["price"]) for i in first["items"] + second["items"]]
    assert prices == sorted(prices, reverse=True)
    assert all(i["active"] for i in first["items"] + second["items"])
    assert first["total"] == 200  # i % 3 <> 0 for i in 1..300


def test_deep_pages_keep_the_sort_order(client, db) -> None:
    seed_many(db, 3000)
    body = client.get("/api/products", params={"sort": "-name", "page": 30, "page_size": 50})
    names = [i["name"] for i in body.json()["items"]]
    assert len(names) == 50 and names == sorted(names, reverse=True)
    everything = client.get("/api/products", params={"sort": "-name", "page_size": 500})
    all_names = []
    for page in range(1, 7):
        all_names += [
            i["name"]
            for i in client.get(
                "/api/products", params={"sort": "-name", "page_size": 500, "page": page}
            ).json()["items"]
        ]
    assert everything.status_code == 200
    assert names == all_names[29 * 50 : 30 * 50]


def test_an_unknown_sort_column_is_422_naming_the_columns(client) -> None:
    response = client.get("/api/products", params={"sort": "colour"})
    assert response.status_code == 422
    assert "cannot sort by 'colour'" in response.json()["detail"]
    assert "sku, name, price" in response.json()["detail"]


# --- one product ------------------------------------------------------------------------


def create(client: httpx.Client, **fields) -> httpx.Response:
    body = {"sku": "NEW-1", "name": "New thing", **fields}
    return client.post("/api/products", json=body)


def test_create_read_replace_change_and_delete_a_product(client, db) -> None:
    created = create(client, description="Shiny", price="12.5", active=False)
    assert created.status_code == 201, created.text
    product = created.json()
    assert (product["sku"], product["price"], product["active"]) == ("NEW-1", "12.50", False)
    pid = product["id"]
    assert client.get(f"/api/products/{pid}").json() == product

    replaced = client.put(f"/api/products/{pid}", json={"sku": "NEW-1B", "name": "Renamed"})
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["description"], replaced.json()["price"]) == ("", None)
    assert replaced.json()["active"] is True  # PUT: missing fields take their defaults

    changed = client.patch(f"/api/products/{pid}", json={"price": 3})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["sku"], changed.json()["price"]) == ("NEW-1B", "3.00")
    assert changed.json()["updated_at"] >= replaced.json()["updated_at"]

    assert client.delete(f"/api/products/{pid}").status_code == 204
    assert client.get(f"/api/products/{pid}").status_code == 404
    assert db.execute("SELECT count(*) FROM products").fetchone() == (0,)


def test_a_product_as_read_can_be_sent_back_with_put(client) -> None:
    product = create(client, price="1.00").json()
    again = client.put(f"/api/products/{product['id']}", json=product)
    assert again.status_code == 200, again.text
    assert again.json() == product  # nothing changed, nothing written


def test_fields_are_trimmed(client) -> None:
    product = create(client, sku="  PAD-1 ", name=" Pad ").json()
    assert (product["sku"], product["name"]) == ("PAD-1", "Pad")


@pytest.mark.parametrize("variant", ["abc-1", "ABC-1", "Abc-1", "aBC-1", "abC-1"])
def test_a_sku_taken_in_any_letter_case_is_409_naming_it(client, db, variant) -> None:
    assert create(client, sku="aBc-1").status_code == 201
    response = create(client, sku=variant)
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert f"Another product already has the SKU {variant!r}" in detail
    assert ("written 'aBc-1'" in detail) == (variant != "aBc-1")
    assert "product 1" not in detail  # never an internal id
    assert db.execute("SELECT count(*) FROM products").fetchone() == (1,)


@pytest.mark.parametrize("method", ["put", "patch"])
def test_changing_a_sku_to_one_taken_in_another_case_is_409(client, method) -> None:
    create(client, sku="TAKEN")
    other = create(client, sku="OTHER").json()
    response = getattr(client, method)(
        f"/api/products/{other['id']}", json={"sku": "taken", "name": "x"}
    )
    assert response.status_code == 409
    assert "'taken'" in response.json()["detail"] and "'TAKEN'" in response.json()["detail"]
    assert client.get(f"/api/products/{other['id']}").json()["sku"] == "OTHER"


def test_a_product_may_change_the_case_of_its_own_sku(client) -> None:
    product = create(client, sku="case-me").json()
    response = client.patch(f"/api/products/{product['id']}", json={"sku": "CASE-ME"})
    assert response.status_code == 200 and response.json()["sku"] == "CASE-ME"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": "No sku"}, "sku", "Enter a SKU."),
        ({"sku": "  ", "name": "Blank sku"}, "sku", "Enter a SKU."),
        ({"sku": None, "name": "Null sku"}, "sku", "Enter a SKU."),
        ({"sku": "X" * 65, "name": "n"}, "sku", "A SKU can have at most 64 characters"),
        ({"sku": "A"}, "name", "Enter a name."),
        ({"sku": "A", "name": "n", "description": "d" * 10_001}, "description", "10,000"),
        ({"sku": "A", "name": "n", "price": -1}, "price", "Price can't be negative."),
        ({"sku": "A", "name": "n", "price": "-0.5"}, "price", "Price can't be negative."),
        ({"sku": "A", "name": "n", "price": "abc"}, "price", "Enter the price as a number"),
        ({"sku": "A", "name": "n", "price": "1.234"}, "price", "at most 2 decimal places"),
        ({"sku": "A", "name": "n", "price": 1.234}, "price", "at most 2 decimal places"),
        ({"sku": "A", "name": "n", "price": 1e11}, "price", "at most 9,999,999,999.99"),
        ({"sku": "A", "name": "n", "price": True}, "price", "Enter the price as a number"),
        ({"sku": "A", "name": "n", "price": [1]}, "price", "Enter the price as a number"),
        ({"sku": "A", "name": "n", "active": "perhaps"}, "active", "Active must be yes or no"),
        ({"sku": "A", "name": "n", "active": 3}, "active", "Active must be true or false."),
        ({"sku": 5, "name": "n"}, "sku", "SKU must be text."),
        ({"sku": "X\u0000Y", "name": "n"}, "sku", "NUL character"),
        ({"sku": "A", "name": "n", "colour": "red"}, "colour", "Unknown field 'colour'"),
    ],
)
def test_a_bad_field_is_422_naming_it_and_stores_nothing(client, db, body, field, message):
    response = client.post("/api/products", json=body)
    assert response.status_code == 422, response.text
    assert field in response.json()["errors"]
    assert message in response.json()["errors"][field]
    assert message in response.json()["detail"]
    assert db.execute("SELECT count(*) FROM products").fetchone() == (0,)


def test_every_bad_field_is_named_at_once(client) -> None:
    response = client.post("/api/products", json={"sku": "", "name": "", "price": "-2"})
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"sku", "name", "price"}


@pytest.mark.parametrize(
    "content", [b"{not json", b"[1, 2]", b'"text"', b""], ids=["broken", "list", "string", "empty"]
)
def test_a_body_that_is_not_a_json_object_is_422(client, content) -> None:
    response = client.post(
        "/api/products", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert "body" in response.json()["errors"]


def test_a_bad_field_in_an_update_is_422_and_changes_nothing(client) -> None:
    product = create(client, price="5").json()
    for method in ("put", "patch"):
        response = getattr(client, method)(
            f"/api/products/{product['id']}", json={"sku": "NEW-1", "name": "x", "price": "-1"}
        )
        assert response.status_code == 422 and "price" in response.json()["errors"]
    assert client.get(f"/api/products/{product['id']}").json() == product


def test_patch_checks_only_the_fields_sent(client) -> None:
    product = create(client).json()
    response = client.patch(f"/api/products/{product['id']}", json={"active": "no"})
    assert response.status_code == 200 and response.json()["active"] is False


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_an_unknown_id_is_404(client, method) -> None:
    kwargs = {"json": {"sku": "A", "name": "n"}} if method in ("put", "patch") else {}
    response = getattr(client, method)("/api/products/999", **kwargs)
    assert response.status_code == 404
    assert response.json()["detail"] == "product 999 not found"


# --- domain events ----------------------------------------------------------------------


def same_product(event: dict, product: dict) -> bool:
    """An event's product equals the API's (times compared as instants)."""
    times = ("created_at", "updated_at")

    def instants(d: dict) -> dict:
        return {**d, **{k: datetime.fromisoformat(d[k]) for k in times}}

    return instants(event) == instants(product)


def test_each_change_records_its_event_with_the_product(client, db) -> None:
    product = create(client, price="2.00").json()
    changed = client.patch(f"/api/products/{product['id']}", json={"name": "Better"}).json()
    client.delete(f"/api/products/{product['id']}")
    recorded = events(db)
    assert [t for t, _ in recorded] == ["product.created", "product.updated", "product.deleted"]
    assert same_product(recorded[0][1], product)
    assert same_product(recorded[1][1], changed)
    assert same_product(recorded[2][1], changed)


def test_a_failed_or_empty_change_records_no_event(client, db) -> None:
    product = create(client, sku="ONE").json()
    create(client, sku="TWO")
    before = events(db)
    assert create(client, sku="one").status_code == 409
    assert create(client, sku="").status_code == 422
    pid = product["id"]
    assert client.patch(f"/api/products/{pid}", json={"sku": "two"}).status_code == 409
    assert client.patch(f"/api/products/{pid}", json={"price": "x"}).status_code == 422
    assert client.patch(f"/api/products/{pid}", json={"sku": "ONE"}).status_code == 200
    assert client.delete("/api/products/999").status_code == 404
    assert events(db) == before


@contextlib.contextmanager
def events_refuse(db: psycopg.Connection, event_type: str) -> Iterator[None]:
    """Make recording one type of event fail in the database."""
    db.execute(
        "ALTER TABLE events ADD CONSTRAINT refuse_for_test"
        f" CHECK (type <> '{event_type}') NOT VALID"
    )
    try:
        yield
    finally:
        db.execute("ALTER TABLE events DROP CONSTRAINT refuse_for_test")


def failed(call: Callable[[], httpx.Response]) -> bool:
    """The request failed on the server (an error status, or the connection dropped)."""
    try:
        return call().status_code >= 500
    except httpx.HTTPError:
        return True


def test_a_change_whose_event_cannot_be_recorded_is_not_stored(client, db) -> None:
    product = create(client, sku="KEEP").json()
    pid = product["id"]
    with events_refuse(db, "product.created"):
        assert failed(lambda: create(client, sku="LOST"))
    with events_refuse(db, "product.updated"):
        assert failed(lambda: client.patch(f"/api/products/{pid}", json={"name": "Lost"}))
    with events_refuse(db, "product.deleted"):
        assert failed(lambda: client.delete(f"/api/products/{pid}"))
    stored = db.execute("SELECT sku, name FROM products").fetchall()
    assert stored == [("KEEP", "New thing")]
    assert [t for t, _ in events(db)] == ["product.created"]


# --- delete all -------------------------------------------------------------------------


def test_delete_all_without_confirm_is_400_and_deletes_nothing(client, shop) -> None:
    for params in ({}, {"confirm": "false"}):
        response = client.delete("/api/products", params=params)
        assert response.status_code == 400
        assert "confirm=true" in response.json()["detail"]
    assert shop.execute("SELECT count(*) FROM products").fetchone() == (len(CATALOG),)
    assert shop.execute("SELECT count(*) FROM bulk_delete_jobs").fetchone() == (0,)


def test_delete_all_runs_in_the_background_and_records_one_event(client, db, worker) -> None:
    seed_many(db, 5000)
    response = client.delete("/api/products", params={"confirm": "true"})
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] in ("pending", "processing", "completed")
    done = wait_for_bulk_delete(client, job["id"])
    assert (done["status"], done["total"], done["deleted"], done["percent"]) == (
        "completed",
        5000,
        5000,
        100.0,
    )
    assert db.execute("SELECT count(*) FROM products").fetchone() == (0,)
    assert events(db) == [("products.bulk_deleted", {"count": 5000, "job_id": job["id"]})]
    assert client.get("/api/products").json()["total"] == 0


def test_delete_all_progress_streams_over_sse_until_completed(client, db, worker) -> None:
    seed_many(db, 2000)
    job = client.delete("/api/products", params={"confirm": "true"}).json()
    snapshots = []
    with client.stream("GET", f"/api/products/bulk-deletes/{job['id']}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if line.startswith("data: "):
                snapshots.append(json.loads(line[len("data: ") :]))
    assert snapshots[-1]["status"] == "completed"
    assert (snapshots[-1]["deleted"], snapshots[-1]["percent"]) == (2000, 100.0)
    assert [s["deleted"] for s in snapshots] == sorted(s["deleted"] for s in snapshots)


def test_an_unknown_bulk_delete_is_404(client) -> None:
    assert client.get("/api/products/bulk-deletes/999").status_code == 404
    assert client.get("/api/products/bulk-deletes/999/events").status_code == 404


def test_a_bulk_delete_whose_event_cannot_be_recorded_deletes_nothing(client, db, worker):
    seed_many(db, 1000)
    with events_refuse(db, "products.bulk_deleted"):
        job = client.delete("/api/products", params={"confirm": "true"}).json()
        done = wait_for_bulk_delete(client, job["id"])
    assert done["status"] == "failed"
    assert "nothing was deleted" in done["error"]
    assert db.execute("SELECT count(*) FROM products").fetchone() == (1000,)
    assert events(db) == []


def test_asking_again_while_a_delete_all_waits_answers_the_same_job(client, db) -> None:
    waiting = db.execute(
        "INSERT INTO bulk_delete_jobs (status) VALUES ('pending') RETURNING id"
    ).fetchone()[0]
    response = client.delete("/api/products", params={"confirm": "true"})
    assert (response.status_code, response.json()["id"]) == (202, waiting)
    assert db.execute("SELECT count(*) FROM bulk_delete_jobs").fetchone() == (1,)


@pytest.mark.parametrize("status", ["pending", "processing"])
def test_delete_all_is_refused_while_an_import_waits_or_runs(client, db, status) -> None:
    seed_many(db, 10)
    job_id = db.execute(
        "INSERT INTO import_jobs (filename, status) VALUES ('big.csv', %s) RETURNING id",
        (status,),
    ).fetchone()[0]
    response = client.delete("/api/products", params={"confirm": "true"})
    assert response.status_code == 409
    # No worker holds this processing job: the message says it waits for one.
    waiting = ", waiting for a worker to take it up again" if status == "processing" else ""
    assert response.json()["detail"] == (
        f"import #{job_id} (big.csv) is {status}{waiting}: wait for it to finish or cancel it, "
        "then delete all products"
    )
    assert db.execute("SELECT count(*) FROM bulk_delete_jobs").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM products").fetchone() == (10,)


def test_delete_all_is_refused_while_a_file_is_being_uploaded(client, db, database) -> None:
    # An upload holds the catalog lock shared until its job row commits.
    with psycopg.connect(database) as uploading:
        uploading.execute("SELECT pg_advisory_xact_lock_shared(%s, %s)", CATALOG_LOCK)
        response = client.delete("/api/products", params={"confirm": "true"})
    assert response.status_code == 409
    assert "being uploaded" in response.json()["detail"]


@pytest.mark.parametrize("status", ["pending", "processing"])
def test_an_import_is_refused_while_a_delete_all_waits_or_runs(client, db, status) -> None:
    job_id = db.execute(
        "INSERT INTO bulk_delete_jobs (status) VALUES (%s) RETURNING id", (status,)
    ).fetchone()[0]
    response = upload(client, csv_bytes(catalog(10)))
    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"all products are being deleted (bulk delete #{job_id}): "
        "start the import again when it has finished"
    )
    assert db.execute("SELECT count(*) FROM import_jobs").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM products").fetchone() == (0,)


def test_totals_follow_an_import_and_a_delete_all_at_once(client, db, worker) -> None:
    """A filtered "about N" total comes from the planner's statistics: the worker refreshes
    them when an import or a delete-all ends, instead of leaving them to autovacuum; the
    unfiltered total is exact at once."""

    def planner_rows() -> float:
        return db.execute("SELECT reltuples FROM pg_class WHERE relname = 'products'").fetchone()[0]

    import_csv(client, csv_bytes(catalog(1_500)))
    wait_until(lambda: planner_rows() == 1_500, timeout=30, what="statistics after the import")
    page = client.get("/api/products", params={"q": "sku"}).json()
    assert (page["total"], page["total_is_exact"]) == (1_500, False)
    page = client.get("/api/products").json()
    assert (page["total"], page["total_is_exact"]) == (1_500, True)

    job = client.delete("/api/products", params={"confirm": "true"}).json()
    wait_until(
        lambda: (
            client.get(f"/api/products/bulk-deletes/{job['id']}").json()["status"] == "completed"
        ),
        timeout=60,
        what="the delete-all",
    )
    wait_until(lambda: planner_rows() == 0, timeout=30, what="statistics after the delete-all")


def test_delete_all_shows_real_progress_while_it_deletes_and_stores_real_times(
    client, db, worker, database
) -> None:
    db.execute(
        "INSERT INTO products (sku, name, description) "
        "SELECT 'BULK-' || g, 'Product ' || g, 'd' FROM generate_series(1, 20000) g"
    )
    # A writer holds the table: the delete starts, then waits for it at its LOCK TABLE.
    with psycopg.connect(database) as writer:
        writer.execute("LOCK TABLE products IN ROW EXCLUSIVE MODE")
        job = client.delete("/api/products", params={"confirm": "true"}).json()
        events: list[dict] = []
        with client.stream("GET", f"/api/products/bulk-deletes/{job['id']}/events") as stream:
            lines = stream.iter_lines()
            for line in lines:  # subscribed: the first snapshot has come
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))
                    break
            wait_until(
                lambda: (
                    client.get(f"/api/products/bulk-deletes/{job['id']}").json()["status"]
                    == "processing"
                ),
                timeout=30,
                what="the worker to start the delete",
            )
            released_at = writer.execute("SELECT clock_timestamp()").fetchone()[0]
            writer.commit()
            for line in lines:
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))
    done = client.get(f"/api/products/bulk-deletes/{job['id']}").json()
    assert done["status"] == "completed" and done["deleted"] == 20_000
    midway = [e for e in events if e["status"] == "processing" and 0 < e["deleted"] < e["total"]]
    assert len(midway) >= 10, events  # 20 steps, each published
    deleted = [e["deleted"] for e in events]
    assert deleted == sorted(deleted)
    # Real times: started before the delete waited for the writer, finished after it.
    started = datetime.fromisoformat(done["started_at"])
    finished = datetime.fromisoformat(done["finished_at"])
    assert started < released_at < finished
