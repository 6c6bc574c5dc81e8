"""What an import leaves in the products' GIN trigram indexes: nothing pending once the
job is done, so searches read the indexes alone and find every imported product."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest
from psycopg import sql

from product_importer.imports import engine
from product_importer.imports.intake import receive_import
from product_importer.models import JobStatus
from product_importer.products.listing import ProductFilter, where_clause
from product_importer.products.phrase_search import phrase_indexed
from tests.support import csv_bytes


async def chunked(data: bytes, size: int = 65536) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def trigram_indexes(db: psycopg.Connection) -> list[str]:
    return [
        name
        for (name,) in db.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'products' "
            "AND indexdef LIKE '%gin_trgm_ops%' ORDER BY indexname"
        ).fetchall()
    ]


def emptied_pending_pages(db: psycopg.Connection, index: str) -> int:
    """Merge the index's pending list and answer how many pages it held (0: it was empty).
    pageinspect and pgstattuple, which could look without merging, may not be installed."""
    return db.execute("SELECT gin_clean_pending_list(%s::regclass)", (index,)).fetchone()[0]


def products(n: int) -> list[tuple[str, ...]]:
    return [
        (f"LAMP-{i:05d}", f"Brass lamp {i}", f"A walnut reading lamp, model {i}", "19.90", "true")
        for i in range(n)
    ]


@pytest.fixture
def trigrams(db: psycopg.Connection) -> Iterator[list[str]]:
    """The trigram indexes, with autovacuum kept off products meanwhile: an autovacuum
    merges pending lists too, and would make the checks below pass whoever merged."""
    indexes = trigram_indexes(db)
    if not indexes:
        pytest.skip("this PostgreSQL has no pg_trgm: products have no trigram indexes")
    db.execute("ALTER TABLE products SET (autovacuum_enabled = off)")
    try:
        yield indexes
    finally:
        db.execute("ALTER TABLE products RESET (autovacuum_enabled)")


def test_rows_written_with_the_import_settings_wait_in_the_pending_lists(db, trigrams) -> None:
    # The check the next test relies on: without a flush, what the apply connections
    # insert stays pending (gin_pending_list_limit is well above these rows).
    with psycopg.connect(db.info.dsn, autocommit=True) as conn:
        for setting in engine.APPLY_SESSION_SETTINGS:
            conn.execute(setting)
        conn.cursor().executemany(
            "INSERT INTO products (sku, name, description, price, active) "
            "VALUES (%s, %s, %s, %s, %s)",
            products(500),
        )
    assert all(emptied_pending_pages(db, index) > 0 for index in trigrams)


def test_an_import_flushes_the_pending_lists_and_its_products_are_found(db, trigrams) -> None:
    job = asyncio.run(receive_import("lamps.csv", chunked(csv_bytes(products(3000)))))
    final = engine.apply_import(job.id, batch_size=500)
    assert final is not None and final.status == JobStatus.completed
    assert (final.created, final.updated, final.unchanged, final.processed_rows) == (
        3000,
        0,
        0,
        3000,
    )
    # Nothing left pending: the worker merged it before it took another job.
    assert [emptied_pending_pages(db, index) for index in trigrams] == [0] * len(trigrams)
    stored = db.execute("SELECT timings FROM import_jobs WHERE id = %s", (job.id,)).fetchone()[0]
    assert "index_flush_s" in stored  # recorded after the job was announced complete
    # Found through the trigram indexes (no table scan allowed), every one of them, by the
    # filters the list writes.
    indexed = phrase_indexed(db)
    assert indexed == {"name", "description"}
    db.execute("SET enable_seqscan = off")
    try:
        for column, term, expected, index in (
            ("sku", "amp-0", 3000, "products_sku_trgm"),
            ("name", "lamp 29", 111, "products_name_phrase_trgm"),  # 29, 290-299, 2900-2999
            ("description", "walnut reading", 3000, "products_description_phrase_trgm"),
        ):
            where, params = where_clause(ProductFilter(**{column: term}), indexed)
            query = sql.SQL("SELECT count(*) FROM products") + where
            plan = "\n".join(r[0] for r in db.execute(sql.SQL("EXPLAIN ") + query, params))
            assert index in plan, plan
            assert db.execute(query, params).fetchone()[0] == expected
    finally:
        db.execute("RESET enable_seqscan")


def test_an_unchanged_import_writes_nothing_and_flushes_nothing(db, trigrams) -> None:
    data = csv_bytes(products(200))
    first = engine.apply_import(asyncio.run(receive_import("a.csv", chunked(data))).id)
    assert first is not None and first.created == 200
    again = engine.apply_import(asyncio.run(receive_import("b.csv", chunked(data))).id)
    assert again is not None and (again.status, again.unchanged) == (JobStatus.completed, 200)
    stored = db.execute("SELECT timings FROM import_jobs WHERE id = %s", (again.id,)).fetchone()[0]
    assert "index_flush_s" not in stored
