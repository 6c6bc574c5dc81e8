"""An .xlsx upload's time and the web process's memory while it is read.

Writes a workbook of `--rows` product rows (openpyxl's write-only mode; the same rows as
import_bench.py, numbers as number cells), starts its own API server on a scratch
database, and uploads it through `POST /api/imports` (streamed from disk). Prints the
workbook's size, the time from the upload's first byte to the answer (every row staged:
the job exists, the worker has not started), and the web process's resident memory
before and at its peak (target: under 300 MB).

    python benchmarks/xlsx_bench.py --rows 500000

Needs a PostgreSQL (BENCH_ADMIN_DATABASE_URL) and a Redis (BENCH_REDIS_URL); it creates
and drops its own database (BENCH_DATABASE_NAME, default product_importer_bench_xlsx).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openpyxl
import psutil
import psycopg
from import_bench import (
    ADMIN_URL,
    REDIS_URL,
    WORDS,
    PeakRss,
    api_token,
    free_port,
    fresh_database,
    migrate,
    sku_of,
    wait_until_healthy,
)

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = os.environ.get("BENCH_DATABASE_NAME", "product_importer_bench_xlsx")
BOUNDARY = "benchboundary42"
MB = 1 << 20


def write_workbook(path: Path, rows: int, seed: int = 42) -> None:
    rng = random.Random(seed)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Products")
    sheet.append(["sku", "name", "description", "price", "active"])
    for i in range(rows):
        name = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6))).title()
        description = " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 40)))
        price = rng.randint(100, 500_000) / 100
        sheet.append([sku_of(i), name, description, price, rng.choice((True, False))])
    book.save(path)


def multipart(path: Path) -> Iterator[bytes]:
    yield (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=file; filename={path.name}\r\n"
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    with path.open("rb") as f:
        while block := f.read(MB):
            yield block
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument(
        "--workbook", type=Path, help="keep the workbook here (written if it does not exist)"
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="xlsx-bench-"))
    book = args.workbook or work / "products.xlsx"
    if not book.exists():
        started = time.perf_counter()
        write_workbook(book, args.rows)
        print(f"workbook written in {time.perf_counter() - started:.1f} s", flush=True)
    print(f"workbook: {args.rows:,} rows, {book.stat().st_size / MB:.1f} MB", flush=True)
    url = fresh_database(BENCH_DB)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": REDIS_URL,
        "REDIS_NAMESPACE": BENCH_DB,
        "MAX_UPLOAD_MB": "512",
        "PYTHONPATH": str(ROOT),
    }
    web = None
    try:
        migrate(ROOT, env)
        token = api_token(ROOT, env)
        port = free_port()
        web = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "product_importer.api:api", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=(work / "web.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        wait_until_healthy(base, work)
        before = psutil.Process(web.pid).memory_info().rss
        with PeakRss(web.pid) as peak, httpx.Client(base_url=base, timeout=1800) as client:
            started = time.perf_counter()
            response = client.post(
                "/api/imports",
                content=multipart(book),
                headers={
                    "Authorization": f"Bearer {token}",
                    "content-type": f"multipart/form-data; boundary={BOUNDARY}",
                },
            )
            seconds = time.perf_counter() - started
        answer = response.json()
        print(
            f"upload to staged: {seconds:.1f} s ({args.rows / seconds:,.0f} rows/s), "
            f"answer {response.status_code} total_rows={answer.get('total_rows')}",
            flush=True,
        )
        print(
            f"web process RSS: before {before / MB:.1f} MB, peak {peak.peak / MB:.1f} MB "
            f"(+{(peak.peak - before) / MB:.1f} MB)",
            flush=True,
        )
    finally:
        if web is not None:
            web.terminate()
            web.wait(timeout=30)
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (BENCH_DB,),
            )
            admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
        if args.workbook is None:
            book.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
