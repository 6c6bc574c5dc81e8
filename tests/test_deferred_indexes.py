"""A big import sets products' search and sort indexes aside and they are built again in
bulk afterwards; meanwhile every filter finds every product the import committed.

The imports run in this process (the engine's own functions, as the worker calls them)
with a low threshold, so that a few thousand rows count as big; the filters go through
the suite's real API server."""

from __future__ import annotations

import asyncio

import httpx
import psycopg
import pytest

from product_importer.imports import actors, deferred_indexes, engine
from product_importer.imports.intake import receive_import
from product_importer.models import JobStatus
from product_importer.products import listing
from product_importer.products.listing import ListTooSlow, ProductFilter
from tests.support import csv_bytes
from tests.test_search_indexes import chunked

ROWS = 3000

_SECONDARY = """
SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = 'products'::regclass AND NOT i.indisprimary AND NOT i.indisunique
ORDER BY 1
"""


def secondary(db: psycopg.Connection) -> dict[str, str]:
    return dict(db.execute(_SECONDARY).fetchall())


def lamps(n: int, start: int = 0, word: str = "walnut") -> list[tuple[str, ...]]:
    return [
        (f"LAMP-{i:05d}", f"Brass lamp {i}", f"A {word} reading lamp, model {i}", f"{i}.25", "true")
        for i in range(start, start + n)
    ]


def run_import(rows: list[tuple[str, ...]], name: str = "lamps.csv"):
    job = asyncio.run(receive_import(name, chunked(csv_bytes(rows))))
    return engine.apply_import(job.id, batch_size=500)


def total(client: httpx.Client, **params: str) -> int:
    """How many products the list finds, every page read (a filtered total is exact only
    up to the list's count cap)."""
    skus: set[str] = set()
    for page in range(1, 100):
        answer = client.get("/api/products", params={**params, "page": page, "page_size": 500})
        assert answer.status_code == 200, answer.text
        items = answer.json()["items"]
        skus.update(item["sku"] for item in items)
        if len(items) < 500:
            return len(skus)
    raise AssertionError("more pages than expected")


def every_filter_finds_them(client: httpx.Client, word: str) -> None:
    assert total(client) == ROWS
    assert total(client, sku="amp-0") == ROWS
    assert total(client, name="lamp 29") == 111  # 29, 290-299, 2900-2999
    assert total(client, description=f"{word} reading") == ROWS
    assert total(client, q="LAMP-02999") == 1
    assert total(client, q=word, active="true", sort="-price") == ROWS
    for sort in ("name", "-price", "created_at", "-updated_at", "active"):
        items = client.get("/api/products", params={"sort": sort, "page_size": 500}).json()
        assert len(items["items"]) == 500
    cheapest = client.get("/api/products", params={"sort": "price", "page_size": 1}).json()
    assert cheapest["items"][0]["sku"] == "LAMP-00000"


def test_a_big_import_sets_the_indexes_aside_and_its_products_are_found_at_once(
    db, client, low_threshold
) -> None:
    before = secondary(db)
    assert len(before) >= 5  # five sort indexes, and the trigram ones where pg_trgm is
    final = run_import(lamps(ROWS))
    assert final is not None and (final.status, final.created) == (JobStatus.completed, ROWS)
    # The import wrote without them; they wait, recorded, for their build.
    assert secondary(db) == {}
    assert dict(db.execute("SELECT name, definition FROM deferred_indexes").fetchall()) == before
    stored = db.execute("SELECT timings FROM import_jobs WHERE id = %s", (final.id,)).fetchone()[0]
    assert "indexes_set_aside_s" in stored
    # Never wrong meanwhile: every filter and sort finds every product of the import.
    every_filter_finds_them(client, "walnut")
    # Built again in bulk, exactly as they were.
    assert deferred_indexes.rebuild() == len(before)
    assert secondary(db) == before
    assert db.execute("SELECT count(*) FROM deferred_indexes").fetchone()[0] == 0
    assert deferred_indexes.rebuild() == 0  # nothing left to do
    every_filter_finds_them(client, "walnut")
    # A re-import that changes every product is big too; an unchanged one is not.
    changed = run_import(lamps(ROWS, word="oak"), "oak.csv")
    assert changed is not None and changed.updated == ROWS
    assert secondary(db) == {}
    every_filter_finds_them(client, "oak")
    assert deferred_indexes.rebuild() == len(before)
    unchanged = run_import(lamps(ROWS, word="oak"), "oak-again.csv")
    assert unchanged is not None and unchanged.unchanged == ROWS
    assert secondary(db) == before


def test_the_import_actor_builds_them_again_once_the_import_has_ended(
    db, client, low_threshold
) -> None:
    """What a worker runs for an import message: the import, then the bulk build."""
    before = secondary(db)
    job = asyncio.run(receive_import("lamps.csv", chunked(csv_bytes(lamps(ROWS)))))
    actors.run_import.fn(job.id)
    final = db.execute("SELECT status, created, timings FROM import_jobs WHERE id = %s", (job.id,))
    status, created, timings = final.fetchone()
    assert (status, created) == ("completed", ROWS) and "indexes_set_aside_s" in timings
    assert secondary(db) == before
    every_filter_finds_them(client, "walnut")


def test_an_import_writing_a_small_part_of_the_catalog_keeps_the_indexes(
    db, client, low_threshold
) -> None:
    before = secondary(db)
    run_import(lamps(ROWS))
    deferred_indexes.rebuild()
    # 1,200 new products in a catalog of 3,000: under half of it, the indexes stay.
    small = run_import(lamps(1200, start=ROWS), "more.csv")
    assert small is not None and small.created == 1200
    assert secondary(db) == before
    assert total(client, description="walnut reading") == ROWS + 1200


def test_no_rebuild_under_a_writing_import_and_a_killed_one_loses_no_definition(
    db, low_threshold
) -> None:
    before = secondary(db)
    with psycopg.connect(db.info.dsn, autocommit=True) as importing:
        assert deferred_indexes.set_aside(importing, 5000) == sorted(before)
        # While the import that set them aside writes, a rebuild waits for its end.
        assert deferred_indexes.rebuild() == 0
        assert secondary(db) == {}
        # Built quickest first: the b-trees, then the trigram ones, narrowest column first.
        order = [name for name, _ in deferred_indexes.build_order(db)]
        trigram = [name for name in order if name.endswith("_trgm")]
        assert set(order[: len(order) - len(trigram)]) == set(order) - set(trigram)
        if trigram:  # where pg_trgm is: the planner's column widths say which is narrow
            db.cursor().executemany(
                "INSERT INTO products (sku, name, description, price, active)"
                " VALUES (%s, %s, %s, %s, %s)",
                lamps(200),
            )
            db.execute("ANALYZE products")
            order = [name for name, _ in deferred_indexes.build_order(db)]
            assert order[-3:] == [
                "products_sku_trgm",
                "products_name_phrase_trgm",
                "products_description_phrase_trgm",
            ]
    # Its connection ended (a worker killed mid-import): the records are all there, and
    # the next rebuild builds every index.
    assert deferred_indexes.rebuild() == len(before)
    assert secondary(db) == before


def test_a_small_import_never_counts_its_writes(db, low_threshold) -> None:
    """Under the threshold nothing is set aside, whatever the catalog's size."""
    before = secondary(db)
    final = run_import(lamps(999))
    assert final is not None and final.created == 999
    assert secondary(db) == before


def test_while_indexes_are_built_again_a_filter_has_longer_to_scan(
    db, database, monkeypatch
) -> None:
    """A filter scans the table while an index is missing: it gets the catching-up time
    limit, not the page's usual one (which of the two stopped it is in the message)."""
    monkeypatch.setattr(listing, "PAGE_TIMEOUT_MS", 200)
    monkeypatch.setattr(listing, "CATCHING_UP_PAGE_TIMEOUT_MS", 1500)
    with psycopg.connect(database) as holder:
        holder.execute("LOCK TABLE products IN ACCESS EXCLUSIVE MODE")  # the page must wait
        db.execute(
            "INSERT INTO deferred_indexes (name, definition)"
            " VALUES ('products_x', 'CREATE INDEX products_x ON products (name)')"
        )
        try:
            with pytest.raises(ListTooSlow, match="longer than 1 s"):
                listing.list_products(ProductFilter(q="lamp"))
        finally:
            db.execute("DELETE FROM deferred_indexes")
        with pytest.raises(ListTooSlow, match="longer than 0 s"):
            listing.list_products(ProductFilter(q="lamp"))
        holder.rollback()


def test_a_big_revert_sets_the_indexes_aside_and_its_actor_builds_them_again(
    db, low_threshold
) -> None:
    from product_importer.imports import revert

    before = secondary(db)
    assert run_import(lamps(ROWS)) is not None
    assert deferred_indexes.rebuild() == len(before)
    changed = run_import(lamps(ROWS, word="oak"), "oak.csv")
    assert changed is not None and changed.updated == ROWS
    assert deferred_indexes.rebuild() == len(before)
    catalog = db.execute("SELECT sku, description FROM products ORDER BY sku").fetchall()
    assert all("oak" in description for _, description in catalog)
    # The revert itself, run here as the worker runs it (its queued message finds it done).
    job = db.execute(
        "INSERT INTO import_reverts (import_id) VALUES (%s) RETURNING id", (changed.id,)
    ).fetchone()
    done = revert.run_revert_job(job[0])
    assert done is not None and (done.status, done.restored) == (JobStatus.completed, ROWS)
    # It wrote without them; its actor builds them again (here: the same rebuild).
    assert secondary(db) == {}
    assert deferred_indexes.rebuild() == len(before)
    assert secondary(db) == before
    assert all(
        "walnut" in description
        for (description,) in db.execute("SELECT description FROM products").fetchall()
    )
