"""Load benchmark: concurrent uploads and product-list clients against one web process
and one worker, for a while; prints every status seen (a 5xx is a failure), the list's
latency percentiles and how many imports completed.

    python benchmarks/load_bench.py --uploaders 20 --listers 20 --seconds 60

Starts its own API server (uvicorn) and Dramatiq worker against a scratch database with
`--products` products loaded first; each uploader sends a 2,000-row file of its own SKUs
(some shared with the others) again and again, each lister pages and filters the list.
Needs a PostgreSQL (BENCH_ADMIN_DATABASE_URL) and a Redis (BENCH_REDIS_URL); it creates
and drops its own database.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.import_bench import (  # noqa: E402
    ADMIN_URL,
    REDIS_URL,
    api_token,
    free_port,
    fresh_database,
    generate_csv,
    migrate,
    start,
    wait_until_healthy,
)

BENCH_DB = os.environ.get("BENCH_DATABASE_NAME", "product_importer_load_bench")
LIST_QUERIES = [
    {},
    {"sku": "00042"},
    {"name": "oak"},
    {"q": "copper"},
    {"active": "false"},
    {"page": "40"},
    {"sort": "-price"},
    {"name": "oak chair", "active": "true"},
]


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: collections.Counter[str] = collections.Counter()
        self.list_ms: list[float] = []
        self.upload_ms: list[float] = []
        self.examples: dict[str, str] = {}

    def saw(self, what: str, status: int | str, ms: float, body: str = "") -> None:
        with self.lock:
            self.statuses[f"{what} {status}"] += 1
            (self.list_ms if what == "list" else self.upload_ms).append(ms)
            if isinstance(status, str) or status >= 500:
                self.examples.setdefault(f"{what} {status}", body[:300])


def _file(n: int, who: int) -> bytes:
    lines = ["sku,name,description,price,active"]
    for i in range(n):
        sku = f"LOAD-{(who * n // 2 + i):07d}"  # half of each file is shared with the next
        lines.append(f"{sku},Load product {i},Written by uploader {who},{i % 500}.99,yes")
    return ("\n".join(lines) + "\n").encode()


def uploader(base: str, token: str, who: int, until: float, tally: Tally, rows: int) -> None:
    data = _file(rows, who)
    with httpx.Client(
        base_url=base, timeout=120, headers={"Authorization": f"Bearer {token}"}
    ) as c:
        while time.monotonic() < until:
            t = time.perf_counter()
            try:
                r = c.post("/api/imports", files={"file": (f"load-{who}.csv", data, "text/csv")})
                tally.saw("upload", r.status_code, (time.perf_counter() - t) * 1000, r.text)
                if r.status_code == 503:
                    time.sleep(float(r.headers.get("Retry-After", "1")))
            except httpx.HTTPError as exc:
                tally.saw("upload", type(exc).__name__, 0, str(exc))


def lister(base: str, token: str, seed: int, until: float, tally: Tally) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}) as c:
        while time.monotonic() < until:
            params = rng.choice(LIST_QUERIES)
            t = time.perf_counter()
            try:
                r = c.get("/api/products", params=params)
                tally.saw("list", r.status_code, (time.perf_counter() - t) * 1000, r.text)
            except httpx.HTTPError as exc:
                tally.saw("list", type(exc).__name__, 0, str(exc))


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploaders", type=int, default=20)
    parser.add_argument("--listers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--rows-per-file", type=int, default=2_000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="load-bench-"))
    url = fresh_database(BENCH_DB)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": REDIS_URL,
        "REDIS_NAMESPACE": "product_importer_load_bench",
    }
    migrate(ROOT, env)
    token = api_token(ROOT, env)
    port = free_port()
    web = start(
        [sys.executable, "-m", "uvicorn", "product_importer.api:api", "--port", str(port)]
        + ["--log-level", "warning"],
        env,
        work / "web.log",
    )
    worker = start(
        [sys.executable, "-m", "dramatiq", "product_importer.worker", "--processes", "1"]
        + ["--threads", "2"],
        env,
        work / "worker.log",
    )
    base = f"http://127.0.0.1:{port}"
    tally = Tally()
    try:
        wait_until_healthy(base, work)
        seed_file = work / "seed.csv"
        generate_csv(seed_file, args.products)
        with httpx.Client(
            base_url=base, timeout=600, headers={"Authorization": f"Bearer {token}"}
        ) as c:
            with seed_file.open("rb") as f:
                job = c.post("/api/imports", files={"file": ("seed.csv", f, "text/csv")}).json()
            while c.get(f"/api/imports/{job['id']}").json()["status"] not in (
                "completed",
                "failed",
            ):
                time.sleep(0.5)
        print(
            f"seeded {args.products:,} products; load for {args.seconds:.0f}s: "
            f"{args.uploaders} uploaders, {args.listers} list clients"
        )
        until = time.monotonic() + args.seconds
        threads = [
            threading.Thread(
                target=uploader, args=(base, token, i, until, tally, args.rows_per_file)
            )
            for i in range(args.uploaders)
        ] + [
            threading.Thread(target=lister, args=(base, token, i, until, tally))
            for i in range(args.listers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        drain_from = time.monotonic()
        with psycopg.connect(url) as conn:
            while conn.execute(
                "SELECT count(*) FROM import_jobs WHERE status IN ('pending', 'processing')"
            ).fetchone()[0]:
                time.sleep(0.5)
                if time.monotonic() - drain_from > 600:
                    break
            ended = dict(
                conn.execute("SELECT status, count(*) FROM import_jobs GROUP BY 1").fetchall()
            )
        drained = time.monotonic() - drain_from
    finally:
        web.terminate()
        worker.terminate()
        web.wait()
        worker.wait()
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')

    print("\nstatuses:")
    for key, count in sorted(tally.statuses.items()):
        print(f"  {key:<28} {count:>7,}")
    errors = {
        k: v
        for k, v in tally.statuses.items()
        if not k.split()[1].isdigit() or int(k.split()[1]) >= 500
    }
    for key, body in tally.examples.items():
        print(f"  e.g. {key}: {body}")
    lm, um = tally.list_ms, tally.upload_ms
    print(
        f"\nlist:   {len(lm):,} requests, p50 {pct(lm, 50):.0f} ms, p95 {pct(lm, 95):.0f} ms, "
        f"p99 {pct(lm, 99):.0f} ms"
    )
    print(f"upload: {len(um):,} requests, p50 {pct(um, 50):.0f} ms, p95 {pct(um, 95):.0f} ms")
    print(f"imports by status at the end: {ended}; the queue drained {drained:.1f}s after the load")
    print(f"5xx or transport errors: {sum(errors.values())}")


if __name__ == "__main__":
    main()
