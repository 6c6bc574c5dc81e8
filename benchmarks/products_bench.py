"""Products benchmark: list queries and delete-all on a catalog of 500,000 products.

Loads N products (deterministic, realistic text) into a scratch database migrated to the
app's schema, then runs a fixed set of list queries (each filter, combinations, sorts,
deep pages) many times each and prints, per query, the p50/p95 of the page's SELECT and
of its count in the database, and of the whole `list_products` call (both, plus turning
rows into objects). Finally it deletes every product through the bulk-delete job's own
code and prints how long that took.

    python benchmarks/products_bench.py --rows 500000
    python benchmarks/products_bench.py --rows 500000 --embedded   # the embedded PostgreSQL 18
    python benchmarks/products_bench.py --rows 500000 --after-import  # pending lists, flush

Needs a PostgreSQL (BENCH_ADMIN_DATABASE_URL, default the local server; the database is
BENCH_DATABASE_NAME, default product_importer_products_bench, created and dropped here)
or, with --embedded, starts a throwaway embedded server in a temporary folder; and a
Redis for the delete's progress (BENCH_REDIS_URL, default local DB 12).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.import_bench import WORDS, sku_of  # noqa: E402

ADMIN_URL = os.environ.get(
    "BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
BENCH_DB = os.environ.get("BENCH_DATABASE_NAME", "product_importer_products_bench")

# (label, filters, sort, page, page_size): what people do with the grid and the API.
QUERIES: list[tuple[str, dict, str, int, int]] = [
    ("first page, no filter", {}, "sku", 1, 50),
    ("sku, rare", {"sku": "00042"}, "sku", 1, 50),
    ("sku, common", {"sku": "oak"}, "sku", 1, 50),
    ("name, common word", {"name": "walnut"}, "sku", 1, 50),
    ("name, two words", {"name": "oak chair"}, "sku", 1, 50),
    ("name, no match", {"name": "zebra"}, "sku", 1, 50),
    ("description, word", {"description": "heavy-duty"}, "sku", 1, 50),
    ("description, phrase", {"description": "brass lamp glass"}, "sku", 1, 50),
    ("q (any text)", {"q": "copper"}, "sku", 1, 50),
    ("q, rare", {"q": "00012345"}, "sku", 1, 50),
    ("active = false", {"active": False}, "sku", 1, 50),
    ("name + active", {"name": "oak", "active": True}, "sku", 1, 50),
    (
        "name + description + active",
        {"name": "lamp", "description": "vintage", "active": False},
        "sku",
        1,
        50,
    ),
    ("sku + q + active", {"sku": "4242", "q": "lamp", "active": True}, "sku", 1, 50),
    ("sort -price", {}, "-price", 1, 50),
    ("sort name", {}, "name", 1, 50),
    ("sort -updated_at", {}, "-updated_at", 1, 50),
    ("sort active", {}, "active", 1, 50),
    ("name filter, sort -price", {"name": "oak"}, "-price", 1, 50),
    ("rare name, sort -price", {"name": "oak walnut chair"}, "-price", 1, 50),
    ("page 100", {}, "sku", 100, 50),
    ("deep page 5000 (sku)", {}, "sku", 5000, 50),
    ("deep page 5000 (-price)", {}, "-price", 5000, 50),
    ("last page (name)", {}, "name", 10000, 50),
    ("active, page 2000 (name)", {"active": True}, "name", 2000, 50),
    ("500 per page", {}, "sku", 3, 500),
]


def generate_rows(n: int, seed: int = 7) -> io.StringIO:
    """n products as COPY text, in shuffled key order (as imports leave a table)."""
    rng = random.Random(seed)
    out = io.StringIO()
    order = list(range(n))
    rng.shuffle(order)
    for i in order:
        name = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6))).title()
        description = " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 40)))
        price = f"{rng.randint(100, 500_000) / 100:.2f}"
        active = "t" if rng.random() < 0.8 else "f"
        out.write(f"{sku_of(i)}\t{name}\t{description}\t{price}\t{active}\n")
    out.seek(0)
    return out


def load(url: str, rows: int, *, like_import: bool = False) -> None:
    """COPY the products in; `like_import` copies them the way an import writes them (in
    10,000-row transactions with the import's session settings) and leaves what is still
    in the GIN pending lists there: the catalog as it is the moment an import ends."""
    from product_importer.imports.engine import APPLY_SESSION_SETTINGS

    t = time.perf_counter()
    data = generate_rows(rows)
    lines = data.getvalue().splitlines(keepends=True)
    generated = time.perf_counter() - t
    t = time.perf_counter()
    batch = 10_000 if like_import else len(lines)
    with psycopg.connect(url) as conn:
        for setting in APPLY_SESSION_SETTINGS if like_import else ():
            conn.execute(setting)
        for first in range(0, len(lines), batch):
            with conn.cursor().copy(
                "COPY products (sku, name, description, price, active) FROM STDIN"
            ) as copy:
                copy.write("".join(lines[first : first + batch]))
            conn.commit()
    copied = time.perf_counter() - t
    t = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        # A VACUUM that cleans indexes also merges GIN pending lists: skip that part when
        # the pending lists are what is measured.
        conn.execute(
            "VACUUM (INDEX_CLEANUP OFF, ANALYZE) products"
            if like_import
            else "VACUUM ANALYZE products"
        )
    how = "in 10,000-row transactions like an import" if like_import else "with every index"
    print(
        f"loaded {rows:,} products: generated in {generated:.1f}s, COPY {how} "
        f"{copied:.1f}s, VACUUM ANALYZE {time.perf_counter() - t:.1f}s"
    )


def flush(url: str) -> None:
    """Merge the GIN pending lists as the worker does once an import has ended."""
    from product_importer.imports.engine import flush_pending_index_entries

    t = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        pages = flush_pending_index_entries(conn)
    print(f"flushed {pages:,} pending index pages in {time.perf_counter() - t:.2f}s")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(url: str, runs: int, count_cap: int | None) -> None:
    from product_importer.products import listing
    from product_importer.products.listing import (
        ProductFilter,
        ProductSort,
        count_products,
        list_products,
        page_query,
    )

    with psycopg.connect(url) as conn:
        trgm = conn.execute(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'products' AND indexdef ~ 'trgm'"
        ).fetchone()[0]
    if count_cap is not None:
        listing.COUNT_CAP = count_cap
    print(
        f"trigram indexes: {trgm or 'none (no pg_trgm)'}; exact totals up to "
        f"{listing.COUNT_CAP:,} matches; {runs} runs per query (ms)"
    )
    header = (
        f"{'query':<30} {'rows':>5} {'total':>9} {'SELECT p50':>10} {'p95':>7}"
        f" {'count p50':>10} {'p95':>7} {'page p50':>9} {'p95':>7}"
    )
    print(header)
    print("-" * len(header))
    worst = 0.0
    with psycopg.connect(url, autocommit=True) as conn:
        for label, raw_filters, raw_sort, page, size in QUERIES:
            filters, sort = ProductFilter(**raw_filters), ProductSort.parse(raw_sort)
            query, params = page_query(filters, sort, page, size)
            selects, counts, pages = [], [], []
            for _ in range(runs):
                t = time.perf_counter()
                rows = conn.execute(query, params).fetchall()
                selects.append(1000 * (time.perf_counter() - t))
                t = time.perf_counter()
                total, exact = count_products(conn, filters)
                counts.append(1000 * (time.perf_counter() - t))
                t = time.perf_counter()
                list_products(filters, sort, page=page, page_size=size)
                pages.append(1000 * (time.perf_counter() - t))
            shown = f"{total:,}" if exact else f"~{total:,}"
            p95 = percentile(pages, 95)
            worst = max(worst, p95)
            print(
                f"{label:<30} {len(rows):>5} {shown:>9}"
                f" {statistics.median(selects):>10.1f} {percentile(selects, 95):>7.1f}"
                f" {statistics.median(counts):>10.1f} {percentile(counts, 95):>7.1f}"
                f" {statistics.median(pages):>9.1f} {p95:>7.1f}"
            )
    print(f"worst page p95: {worst:.1f} ms")


def delete_all(url: str) -> None:
    from product_importer.products.bulk_delete import run_bulk_delete_job

    with psycopg.connect(url, autocommit=True) as conn:
        job_id = conn.execute(
            "INSERT INTO bulk_delete_jobs DEFAULT VALUES RETURNING id"
        ).fetchone()[0]
    t = time.perf_counter()
    job = run_bulk_delete_job(job_id)
    seconds = time.perf_counter() - t
    assert job is not None and job.status == "completed", job
    print(f"delete-all: {job.deleted:,} products in {seconds:.2f}s (job {job.status})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=30, help="runs of each query")
    parser.add_argument(
        "--count-cap", type=int, default=None, help="try another COUNT_CAP (exact totals up to)"
    )
    parser.add_argument(
        "--embedded", action="store_true", help="use a throwaway embedded PostgreSQL"
    )
    parser.add_argument(
        "--after-import",
        action="store_true",
        help="load like an import and measure with the GIN pending lists as an import leaves "
        "them, then again after the worker's flush",
    )
    args = parser.parse_args()

    embedded = None
    if args.embedded:
        from product_importer.embedded import start_postgres

        embedded = start_postgres(Path(tempfile.mkdtemp(prefix="products-bench-")) / "pg")
        url = embedded.url
    else:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{BENCH_DB}"')
        url = ADMIN_URL.rsplit("/", 1)[0] + "/" + BENCH_DB
    # The app's modules read their settings when first imported: set them before.
    os.environ.update(
        {"DATABASE_URL": url, "REDIS_URL": REDIS_URL, "REDIS_NAMESPACE": "products_bench"}
    )
    try:
        migrated = subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=ROOT,
            env=os.environ.copy(),
            capture_output=True,
            text=True,
        )
        if migrated.returncode:
            raise SystemExit(migrated.stderr)
        for line in migrated.stderr.splitlines():
            if "pg_trgm" in line:
                print("migration:", line.split("] ", 1)[-1])
        load(url, args.rows, like_import=args.after_import)
        measure(url, args.runs, args.count_cap)
        if args.after_import:
            flush(url)
            measure(url, args.runs, args.count_cap)
        delete_all(url)
    finally:
        if embedded is not None:
            embedded.stop()
        else:
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


if __name__ == "__main__":
    main()
