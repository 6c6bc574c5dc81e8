"""Export benchmark: GET /api/products/export's streaming COPY, and the export job, over N
products.

Loads N products into a scratch database migrated to the head, then streams the whole
catalog and one filtered view through `export_csv` (what the API answers with), and runs
the export job (CSV, then .xlsx) as its worker does (`run_export_job`: COPY into the
stored chunks, committed) and its download (`export_file`), printing seconds, rows/s,
MB/s and the process's peak RSS, with a plain `COPY products TO STDOUT` of the same rows
measured in the same run as the floor.

    python benchmarks/export_bench.py --rows 500000

Needs a PostgreSQL (BENCH_ADMIN_DATABASE_URL, default the local server; the database is
BENCH_DATABASE_NAME, default product_importer_export_bench, created and dropped here).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.products_bench import load  # noqa: E402

ADMIN_URL = os.environ.get(
    "BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
BENCH_DB = os.environ.get("BENCH_DATABASE_NAME", "product_importer_export_bench")


def floor(url: str) -> float:
    """A plain COPY of the same columns, read and thrown away."""
    t = time.perf_counter()
    with (
        psycopg.connect(url) as conn,
        conn.cursor() as cur,
        cur.copy(
            "COPY (SELECT sku, name, description, price, active FROM products ORDER BY sku)"
            " TO STDOUT WITH (FORMAT csv)"
        ) as copy,
    ):
        for _ in copy:
            pass
    return time.perf_counter() - t


def timed_export(label: str, filters: object) -> None:
    from product_importer.products.export import export_csv

    t = time.perf_counter()
    size = lines = 0
    for piece in export_csv(filters):  # type: ignore[arg-type]
        size += len(piece)
        lines += piece.count(b"\n")
    seconds = time.perf_counter() - t
    print(
        f"{label}: {lines - 1:,} lines after the header, {size / 1e6:.1f} MB in "
        f"{seconds:.2f}s = {(lines - 1) / seconds:,.0f} rows/s, {size / 1e6 / seconds:.1f} MB/s"
    )


def timed_job(label: str, filters: object, file_format: str = "csv") -> None:
    """The export job as its worker runs it (queue latency aside), then its download."""
    from dataclasses import asdict

    from psycopg.types.json import Jsonb

    from product_importer import db
    from product_importer.products.export_download import export_file
    from product_importer.products.export_writer import run_export_job

    with db.connect(autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO export_jobs (filters, format, owner, requested_by) "
            "VALUES (%s, %s, 'bench', 'bench') RETURNING id",
            (Jsonb(asdict(filters)), file_format),  # type: ignore[call-overload]
        ).fetchone()
    assert row is not None
    t = time.perf_counter()
    job = run_export_job(int(row[0]))
    seconds = time.perf_counter() - t
    assert job is not None and job.status == "completed", job
    print(
        f"{label}: {job.written:,} rows, {job.size_bytes / 1e6:.1f} MB in {job.chunks} chunks, "
        f"written and committed in {seconds:.2f}s = {job.written / seconds:,.0f} rows/s"
    )
    t = time.perf_counter()
    size = sum(len(piece) for piece in export_file(job))
    seconds = time.perf_counter() - t
    assert size == job.size_bytes, (size, job.size_bytes)
    print(
        f"  its download: {size / 1e6:.1f} MB in {seconds:.2f}s = {size / 1e6 / seconds:.0f} MB/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    args = parser.parse_args()
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{BENCH_DB}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + BENCH_DB
    os.environ.update({"DATABASE_URL": url, "REDIS_URL": REDIS_URL, "REDIS_NAMESPACE": "export"})
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
        load(url, args.rows)
        from product_importer.products.listing import ProductFilter

        print(f"floor (plain COPY, same rows): {floor(url):.2f}s")
        timed_export("export, whole catalog", ProductFilter())
        print(f"floor again: {floor(url):.2f}s")
        timed_export("export, name contains 'oak', active", ProductFilter(name="oak", active=True))
        print(f"floor again: {floor(url):.2f}s")
        timed_job("export job, whole catalog", ProductFilter())
        print(f"floor again: {floor(url):.2f}s")
        timed_job("export job, name contains 'oak', active", ProductFilter(name="oak", active=True))
        timed_job("export job as .xlsx, whole catalog", ProductFilter(), "xlsx")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of this process (includes the generated load data): {peak:.0f} MB")
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


if __name__ == "__main__":
    main()
