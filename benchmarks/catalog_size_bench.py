"""Catalog size benchmark: what the size-keeping triggers (migration 0010) cost a write.

In a scratch database, loads N products with COPY into a products table without and with
the triggers, then deletes them all, three times each alternately, and prints the
seconds and the median ratio with/without. The table has the catalog's columns and a
primary key only, so the ratio is the worst case: the app's own table has its unique,
sort and trigram indexes, which make each write dearer and the triggers' share smaller.

    python benchmarks/catalog_size_bench.py --rows 500000

Needs a PostgreSQL (BENCH_ADMIN_DATABASE_URL, default the local server); the database is
BENCH_DATABASE_NAME (default product_importer_size_bench), created and dropped here.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get(
    "BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BENCH_DB = os.environ.get("BENCH_DATABASE_NAME", "product_importer_size_bench")
MIGRATION = ROOT / "alembic" / "versions" / "0010_search_product_count.py"


def trigger_ddl() -> str:
    """The migration's own SQL, less its initial count."""
    text = MIGRATION.read_text()
    ddl = text.split('op.execute(\n        """', 1)[1].split('"""', 1)[0]
    return ddl.replace(
        "INSERT INTO product_count_deltas (delta) SELECT count(*) FROM products;", ""
    )


def run(url: str, rows: int, *, with_triggers: bool) -> tuple[float, float]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS products, product_count_deltas CASCADE")
        for function in ("inserted", "deleted", "truncated"):
            conn.execute(f"DROP FUNCTION IF EXISTS product_count_{function}() CASCADE")
        conn.execute(
            "CREATE TABLE products (id bigserial PRIMARY KEY, sku text, name text,"
            " description text, price numeric, active bool)"
        )
        if with_triggers:
            conn.execute(trigger_ddl())
        started = time.perf_counter()
        copy_sql = "COPY products (sku, name, description, price, active) FROM STDIN"
        with conn.cursor().copy(copy_sql) as copy:
            for i in range(rows):
                copy.write_row((f"SKU-{i}", f"Product {i}", "A sturdy thing " * 5, "9.99", True))
        copied = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("DELETE FROM products")
        return copied, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=500_000)
    args = parser.parse_args()
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
        admin.execute(f'CREATE DATABASE "{BENCH_DB}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + BENCH_DB
    try:
        results: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
        for _ in range(3):
            for with_triggers in (False, True):
                results[with_triggers].append(run(url, args.rows, with_triggers=with_triggers))
        for with_triggers, label in ((False, "without triggers"), (True, "with triggers")):
            copies = ", ".join(f"{c:.2f}" for c, _ in results[with_triggers])
            deletes = ", ".join(f"{d:.2f}" for _, d in results[with_triggers])
            print(f"{label:17} COPY {args.rows:,} rows s: {copies}; DELETE all s: {deletes}")
        for index, what in ((0, "COPY"), (1, "DELETE")):
            ratio = statistics.median(r[index] for r in results[True]) / statistics.median(
                r[index] for r in results[False]
            )
            print(f"{what}: median with/without triggers {ratio:.2f}x")
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')


if __name__ == "__main__":
    main()
