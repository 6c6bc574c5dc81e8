"""Memory of the web process while it receives a file with one very long line.

Starts its own API server on a scratch database, then uploads through `POST /api/imports`
(streamed, never held by the client): a file whose second line is one line of `--mb`
megabytes, then, for reference, an ordinary file of about the same size. Prints the web
process's resident memory before each upload, its peak during it and after, the answer
and the time it took.

    python benchmarks/long_line_bench.py --mb 200

`--app-root DIR` measures another checkout of the app (e.g. an older version) the same way.
Needs a PostgreSQL (BENCH_ADMIN_DATABASE_URL) and a Redis (BENCH_REDIS_URL); it creates
and drops its own database (BENCH_DATABASE_NAME, default product_importer_bench_lines).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import psycopg
from import_bench import (
    ADMIN_URL,
    REDIS_URL,
    PeakRss,
    api_token,
    free_port,
    fresh_database,
    migrate,
    wait_until_healthy,
)

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = os.environ.get("BENCH_DATABASE_NAME", "product_importer_bench_lines")
BOUNDARY = "benchboundary42"
MB = 1 << 20


def multipart(lines: Iterator[bytes]) -> Iterator[bytes]:
    yield (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=file; filename=long.csv\r\n"
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    yield from lines
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def long_line_file(mb: int) -> Iterator[bytes]:
    yield b"sku,name,description\nA1,One,first\nLONG-1,Long,"
    block = b"x" * MB
    for _ in range(mb):
        yield block
    yield b"\nA2,Two,last\n"


def ordinary_file(mb: int) -> Iterator[bytes]:
    yield b"sku,name,description\n"
    row = 0
    for _ in range(mb):
        chunk = []
        size = 0
        while size < MB:
            line = b"SKU-%09d,Product %d,An ordinary description of an ordinary thing\n" % (
                row,
                row,
            )
            chunk.append(line)
            size += len(line)
            row += 1
        yield b"".join(chunk)


def measure(base: str, token: str, web: subprocess.Popen, name: str, body: Iterator[bytes]):
    process = psutil.Process(web.pid)
    before = process.memory_info().rss
    with PeakRss(web.pid) as peak, httpx.Client(base_url=base, timeout=900) as client:
        started = time.perf_counter()
        response = client.post(
            "/api/imports",
            content=multipart(body),
            headers={
                "Authorization": f"Bearer {token}",
                "content-type": f"multipart/form-data; boundary={BOUNDARY}",
            },
        )
        seconds = time.perf_counter() - started
    time.sleep(1.0)
    after = process.memory_info().rss
    try:
        answer = response.json()
    except ValueError:
        answer = {"text": response.text[:80]}
    keys = ("status", "total_rows", "file_lines", "file_size")
    summary = {k: answer.get(k) for k in keys} if response.status_code == 202 else answer
    print(
        f"{name:<28} web RSS before {before / MB:7.1f} MB   peak {peak.peak / MB:7.1f} MB "
        f"(+{(peak.peak - before) / MB:.1f})   after {after / MB:7.1f} MB   "
        f"{seconds:6.1f} s   {response.status_code} {summary}"
    )
    return response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="size of the long line")
    parser.add_argument("--app-root", type=Path, default=ROOT, help="the app checkout to run")
    args = parser.parse_args()
    app = args.app_root.resolve()

    url = fresh_database(BENCH_DB)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": REDIS_URL,
        "REDIS_NAMESPACE": BENCH_DB,
        "MAX_UPLOAD_MB": "512",
        "PYTHONPATH": str(app),
    }
    work = Path(tempfile.mkdtemp(prefix="long-line-bench-"))
    web = None
    try:
        migrate(app, env)
        token = api_token(app, env)
        port = free_port()
        web = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "product_importer.api:api", "--port", str(port)],
            cwd=app,
            env=env,
            stdout=(work / "web.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        wait_until_healthy(base, work)
        print(f"app: {app}")
        measure(base, token, web, f"one line of {args.mb} MB", long_line_file(args.mb))
        measure(base, token, web, f"ordinary rows, {args.mb} MB", ordinary_file(args.mb))
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


if __name__ == "__main__":
    main()
