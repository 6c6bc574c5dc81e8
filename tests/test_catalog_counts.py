"""The totals a list answers: the unfiltered one is the catalog's exact size whatever
changed it; a filtered one is exact up to the cap whatever the page; an estimate is
never below what the pages show nor above the catalog; a page that runs too long is
stopped with a clear 503."""

from __future__ import annotations

import psycopg
import pytest

from product_importer import db as app_db
from product_importer.catalog_statistics import catalog_size, compact_catalog_size
from product_importer.products import listing
from product_importer.products.listing import COUNT_CAP, ListTooSlow, ProductFilter
from tests.support import catalog, csv_bytes, import_csv, wait_for_bulk_delete


def seed_many(db: psycopg.Connection, n: int, prefix: str = "GEN") -> None:
    db.execute(
        """INSERT INTO products (sku, name, description, price, active)
           SELECT %s || '-' || lpad(i::text, 6, '0'), 'Generated ' || i, 'Row ' || i,
                  i %% 100, i %% 3 <> 0
           FROM generate_series(1, %s) AS i""",
        (prefix, n),
    )


def real_count(db: psycopg.Connection) -> int:
    return db.execute("SELECT count(*) FROM products").fetchone()[0]


def listed_total(client) -> tuple[int, bool]:
    body = client.get("/api/products", params={"page_size": 1}).json()
    return body["total"], body["total_is_exact"]


def test_the_unfiltered_total_is_exact_after_every_kind_of_change(client, db, worker) -> None:
    job = import_csv(client, csv_bytes(catalog(COUNT_CAP + 700)))
    assert job["status"] == "completed", job
    assert listed_total(client) == (COUNT_CAP + 700, True) == (real_count(db), True)

    # An unchanged re-import and one with new and changed rows mixed.
    rows = catalog(COUNT_CAP + 700) + catalog(300, prefix="NEW", price="1.00")
    assert import_csv(client, csv_bytes(rows))["status"] == "completed"
    assert listed_total(client) == (COUNT_CAP + 1000, True) == (real_count(db), True)

    created = client.post("/api/products", json={"sku": "FORM-1", "name": "From the form"})
    assert created.status_code == 201, created.text
    assert listed_total(client) == (COUNT_CAP + 1001, True)
    assert client.delete(f"/api/products/{created.json()['id']}").status_code == 204
    assert listed_total(client) == (COUNT_CAP + 1000, True)

    seed_many(db, 5)  # straight SQL counts too
    db.execute("DELETE FROM products WHERE sku LIKE 'NEW-%'")
    assert listed_total(client) == (COUNT_CAP + 705, True) == (real_count(db), True)

    deleting = client.delete("/api/products", params={"confirm": "true"}).json()
    assert wait_for_bulk_delete(client, deleting["id"])["status"] == "completed"
    assert listed_total(client) == (0, True)


def test_a_change_rolled_back_leaves_the_total_as_it_was(client, db, database) -> None:
    seed_many(db, 40)
    with psycopg.connect(database) as other:
        seed_many(other, 1000, prefix="GONE")
        other.execute("DELETE FROM products WHERE sku LIKE 'GEN-00001%'")
        # Not committed: no reader sees it, in the total either.
        assert listed_total(client) == (40, True)
        other.rollback()
    assert listed_total(client) == (40, True) == (real_count(db), True)


def test_compacting_keeps_the_size_and_folds_its_rows(db) -> None:
    for batch in range(5):
        seed_many(db, 3, prefix=f"B{batch}")
    db.execute("DELETE FROM products WHERE sku = 'B0-000001'")
    assert db.execute("SELECT count(*) FROM product_count_deltas").fetchone()[0] == 6
    compact_catalog_size()
    assert db.execute("SELECT count(*) FROM product_count_deltas").fetchone()[0] == 1
    assert catalog_size(db) == 14 == real_count(db)
    db.execute("TRUNCATE products")
    assert catalog_size(db) == 0


@pytest.mark.parametrize(
    "params",
    [
        {"page": 1, "page_size": 50},
        {"page": 2, "page_size": 50},
        {"page": 1, "page_size": 10},
        {"page": 3, "page_size": 10},
        {"page": 1, "page_size": 200},
        {"page": 5, "page_size": 500},  # past the last page
    ],
)
def test_a_filtered_total_is_exact_on_every_page_and_page_size(client, db, params) -> None:
    seed_many(db, 3000)
    seed_many(db, 100, prefix="RARE")
    db.execute("ANALYZE products")
    for filters in ({"sku": "RARE"}, {"q": "rare-0000"}, {"sku": "rare", "active": "true"}):
        body = client.get("/api/products", params={**filters, **params}).json()
        expected = db.execute(
            "SELECT count(*) FROM products WHERE sku ILIKE %s AND (%s OR active)",
            ("%" + (filters.get("sku") or filters.get("q")) + "%", "active" not in filters),
        ).fetchone()[0]
        assert (body["total"], body["total_is_exact"]) == (expected, True), (filters, params)


def test_a_filtered_total_up_to_the_cap_is_exact_and_past_it_an_honest_estimate(client, db) -> None:
    seed_many(db, COUNT_CAP, prefix="AT-CAP")
    seed_many(db, COUNT_CAP + 400, prefix="PAST")
    db.execute("ANALYZE products")
    at_cap = client.get("/api/products", params={"sku": "at-cap", "page_size": 10}).json()
    assert (at_cap["total"], at_cap["total_is_exact"]) == (COUNT_CAP, True)
    for page in (1, 2, 3):
        past = client.get(
            "/api/products", params={"sku": "PAST", "page": page, "page_size": 500}
        ).json()
        shown = (page - 1) * 500 + len(past["items"])
        if past["total_is_exact"]:
            assert past["total"] == COUNT_CAP + 400
        else:
            assert COUNT_CAP < past["total"] <= real_count(db)
            assert past["total"] >= shown + 1  # a full page: the next stays reachable


def test_an_estimate_is_never_above_the_catalog(db) -> None:
    seed_many(db, COUNT_CAP + 50)
    db.execute("ANALYZE products")
    db.execute("INSERT INTO product_count_deltas (delta) VALUES (0)")
    with app_db.pooled_connection() as conn:
        total, exact = listing.count_products(conn, ProductFilter(q="gen"))
    assert not exact and COUNT_CAP < total <= COUNT_CAP + 50


def test_a_page_query_that_runs_too_long_is_stopped_with_a_clear_503(
    client, db, database, monkeypatch
) -> None:
    seed_many(db, 20)
    with psycopg.connect(database) as holder:
        holder.execute("LOCK TABLE products IN ACCESS EXCLUSIVE MODE")  # the page must wait
        monkeypatch.setattr(listing, "PAGE_TIMEOUT_MS", 200)
        with pytest.raises(ListTooSlow, match="took longer than"):
            listing.list_products(ProductFilter(q="gen"))
        # Over HTTP the server's own limit answers, as JSON.
        response = client.get(
            "/api/products", params={"q": "gen"}, timeout=listing.PAGE_TIMEOUT_MS / 1000 + 30
        )
        holder.rollback()
    assert response.status_code == 503, response.text
    assert "took longer than" in response.json()["detail"]
    assert response.headers["Retry-After"]
    assert client.get("/api/products", params={"q": "gen"}).json()["total"] == 20


@pytest.mark.parametrize("matching", [COUNT_CAP - 100, COUNT_CAP, COUNT_CAP + 1, COUNT_CAP + 300])
@pytest.mark.parametrize("sort", ["-name", "price", "sku"])
def test_every_page_of_a_filter_is_the_one_sql_sorts_whichever_way_it_is_read(
    db, matching, sort
) -> None:
    """Up to the cap a page is sorted out of every match read at once, beyond it read in
    sort order: the pages and totals are the same either way, to the last page and past."""
    seed_many(db, matching, prefix="KEEP")
    seed_many(db, 400, prefix="SKIP")
    column, descending = sort.lstrip("-"), sort.startswith("-")
    expression = {"sku": "lower(sku)"}.get(column, column)
    order = f"{expression} {'DESC' if descending else 'ASC'}, id {'DESC' if descending else 'ASC'}"
    expected = [
        sku
        for (sku,) in db.execute(
            f"SELECT sku FROM products WHERE sku ILIKE 'keep-%' ORDER BY {order}"
        )
    ]
    page_size = 200
    pages = -(-matching // page_size)
    seen: list[str] = []
    for page in range(1, pages + 2):
        listed = listing.list_products(
            ProductFilter(sku="keep-"),
            listing.ProductSort.parse(sort),
            page=page,
            page_size=page_size,
        )
        seen.extend(p.sku for p in listed.items)
        if matching <= COUNT_CAP or 0 < len(listed.items) < page_size:  # a short last page
            assert (listed.total, listed.total_is_exact) == (matching, True), page
        else:
            assert not listed.total_is_exact and listed.total > COUNT_CAP
    assert seen == expected
