"""Import benchmark: end-to-end HTTP import vs. the bare PostgreSQL floor, on this machine.

Generates a deterministic CSV (10% duplicate SKUs differing in case, realistic text),
starts its own API server and Dramatiq worker against a scratch database, imports the
file through `POST /api/imports` (clock: first byte of the upload to the job's terminal
status), imports it again (every row unchanged), then measures the floor on the same
PostgreSQL: COPY into a temp staging table + one INSERT ... SELECT DISTINCT ON ...
ON CONFLICT DO UPDATE WHERE the row differs, into a fresh table that has only the
unique lower(sku) index; the same again (the unchanged floor); the same into a copy of
`products` with every index it has (the same-schema floor); and a bare COPY.

After the fresh import it also clocks the search catch-up (until every index the import
set aside is built again: imports/deferred_indexes.py) and times a set of list queries
over HTTP while that runs and after it (p50/p95 per query).

    python benchmarks/import_bench.py --rows 500000
    python benchmarks/import_bench.py --rows 500000 --embedded   # the embedded PostgreSQL

Needs a PostgreSQL (BENCH_ADMIN_DATABASE_URL, default the local server) and a Redis
(BENCH_REDIS_URL, default local DB 12); it creates and drops its own database.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import psycopg

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get(
    "BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
# Its own database (dropped at the end); BENCH_DATABASE_NAME keeps parallel runs apart.
BENCH_DB = os.environ.get("BENCH_DATABASE_NAME", "product_importer_bench")
WORDS = [
    "oak",
    "walnut",
    "steel",
    "linen",
    "cotton",
    "wool",
    "glass",
    "brass",
    "copper",
    "matte",
    "gloss",
    "vintage",
    "modern",
    "classic",
    "compact",
    "deluxe",
    "outdoor",
    "indoor",
    "ergonomic",
    "adjustable",
    "foldable",
    "stackable",
    "waterproof",
    "handmade",
    "recycled",
    "premium",
    "lightweight",
    "heavy-duty",
    "chair",
    "table",
    "lamp",
    "shelf",
    "desk",
    "stool",
    "cabinet",
    "mirror",
    "rug",
    "cushion",
    "blanket",
    "vase",
    "clock",
    "frame",
    "basket",
]


def sku_of(i: int) -> str:
    return f"SKU-{i:08d}-{WORDS[i % len(WORDS)].upper()}"


def generate_csv(path: Path, rows: int, seed: int = 42) -> None:
    """Write `rows` data rows; the last 10% repeat earlier SKUs in lower case."""
    rng = random.Random(seed)
    unique = rows - rows // 10
    with path.open("w", newline="", encoding="utf-8") as f:
        f.write("sku,name,description,price,active\n")
        for i in range(rows):
            sku = sku_of(i) if i < unique else sku_of(rng.randrange(unique)).lower()
            name = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6))).title()
            description = " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 40)))
            if rng.random() < 0.15:
                description = f'"{description}, ""{rng.choice(WORDS)}"" edition"'
            price = f"{rng.randint(100, 500_000) / 100:.2f}"
            active = rng.choice(("true", "false", "1", "0", "yes", "no", ""))
            f.write(f"{sku},{name},{description},{price},{active}\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PeakRss:
    """Samples the resident memory of a process tree every 100 ms; keeps the peak of the
    largest single process (each worker or server process is its own budget)."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for p in [self.root, *self.root.children(recursive=True)]:
                    self.peak = max(self.peak, p.memory_info().rss)
            except psutil.Error:
                pass
            time.sleep(0.1)

    def __enter__(self) -> PeakRss:
        self.peak = 0
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Run:
    seconds: float
    job: dict
    worker_rss: int
    web_rss: int


def import_once(
    base: str, token: str, path: Path, worker: subprocess.Popen, web: subprocess.Popen
) -> Run:
    auth = {"Authorization": f"Bearer {token}"}
    with (
        PeakRss(worker.pid) as worker_rss,
        PeakRss(web.pid) as web_rss,
        httpx.Client(base_url=base, timeout=600, headers=auth) as client,
    ):
        started = time.perf_counter()
        with path.open("rb") as f:
            response = client.post("/api/imports", files={"file": (path.name, f, "text/csv")})
        response.raise_for_status()
        job_id = response.json()["id"]
        with client.stream("GET", f"/api/imports/{job_id}/events") as events:
            for _ in events.iter_lines():
                pass  # the stream ends with the terminal status
        seconds = time.perf_counter() - started
        job = client.get(f"/api/imports/{job_id}").json()
    return Run(seconds, job, worker_rss.peak, web_rss.peak)


FLOOR_UPSERT = """
INSERT INTO {table} AS p (sku, name, description, price, active)
SELECT DISTINCT ON (lower(sku)) sku, name, description, nullif(price, '')::numeric(12, 2),
       coalesce(lower(active) NOT IN ('false', '0', 'no'), true)
FROM floor_staging ORDER BY lower(sku), ord DESC
ON CONFLICT ((lower(sku))) DO UPDATE SET sku = excluded.sku, name = excluded.name,
    description = excluded.description, price = excluded.price, active = excluded.active
WHERE (p.sku, p.name, p.description, p.price, p.active)
    IS DISTINCT FROM (excluded.sku, excluded.name, excluded.description, excluded.price,
                      excluded.active)
"""


def floor_once(url: str, path: Path, *, upsert: bool, table: str = "floor_products") -> float:
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        conn.execute(
            "CREATE TEMP TABLE floor_staging (sku text, name text, description text,"
            " price text, active text, ord bigint GENERATED ALWAYS AS IDENTITY) ON COMMIT DROP"
        )
        copy_sql = (
            "COPY floor_staging (sku, name, description, price, active)"
            " FROM STDIN (FORMAT csv, HEADER true)"
        )
        with conn.cursor().copy(copy_sql) as copy, path.open("rb") as f:
            while chunk := f.read(1 << 20):
                copy.write(chunk)
        if upsert:
            conn.execute(FLOOR_UPSERT.format(table=table))
        conn.commit()
        return time.perf_counter() - started


# (label, query parameters): the list's typical shapes, each filter, combined, sorted, deep.
LIST_QUERIES: list[tuple[str, dict]] = [
    ("first page", {}),
    ("sku, rare", {"sku": "00042"}),
    ("name, word", {"name": "walnut"}),
    ("description, phrase", {"description": "brass lamp glass"}),
    ("q, word", {"q": "copper"}),
    ("q, rare", {"q": "00012345"}),
    ("active + sort price", {"active": "false", "sort": "-price"}),
    ("name + sort name", {"name": "oak", "sort": "name"}),
    ("deep page", {"page": 400}),
    ("sort -updated_at", {"sort": "-updated_at"}),
]


def time_list_queries(base: str, token: str, rounds: int) -> dict[str, list[float]]:
    """Each list query `rounds` times over HTTP; answer the seconds of each."""
    seconds: dict[str, list[float]] = {label: [] for label, _ in LIST_QUERIES}
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=120, headers=auth) as client:
        for _ in range(rounds):
            for label, params in LIST_QUERIES:
                started = time.perf_counter()
                client.get("/api/products", params={"page_size": 50, **params}).raise_for_status()
                seconds[label].append(time.perf_counter() - started)
    return seconds


def print_list_times(title: str, seconds: dict[str, list[float]]) -> None:
    print(f"list over HTTP, {title}: p50 / p95 ms")
    for label, times in seconds.items():
        ordered = sorted(times)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        print(f"  {label:<22} {statistics.median(ordered) * 1000:7.1f} {p95 * 1000:7.1f}")


def wait_for_catch_up(url: str, base: str, token: str) -> tuple[float, dict[str, list[float]]]:
    """Seconds from now until no set-aside index waits for its build, and the list
    queries' times meanwhile."""
    started = time.perf_counter()
    during: dict[str, list[float]] = {label: [] for label, _ in LIST_QUERIES}
    with psycopg.connect(url, autocommit=True) as conn:
        while conn.execute("SELECT count(*) FROM deferred_indexes").fetchone()[0]:  # type: ignore[index]
            for label, times in time_list_queries(base, token, 1).items():
                during[label].extend(times)
        return time.perf_counter() - started, during


def drop_catalog_indexes(url: str) -> None:
    """Leave products with its primary key and a plain unique lower(sku) index only."""
    with psycopg.connect(url, autocommit=True) as conn:
        names = conn.execute(
            """SELECT indexname FROM pg_indexes WHERE tablename = 'products'
               AND indexname NOT IN ('products_pkey', 'products_sku_lower_key')"""
        ).fetchall()
        for (name,) in names:
            conn.execute(f'DROP INDEX "{name}"')
        conn.execute("DROP INDEX products_sku_lower_key")
        conn.execute("CREATE UNIQUE INDEX products_sku_lower_key ON products (lower(sku))")
    print(f"bare catalog: dropped {', '.join(n for (n,) in names)}")


def fresh_database(name: str, admin_url: str = ADMIN_URL) -> str:
    """Drop and create the scratch database `name`; answer its URL."""
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def migrate(app: Path, env: dict[str, str]) -> None:
    """Bring the database of `env` to the app's latest schema."""
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=app,
        env=env,
        check=True,
        capture_output=True,
    )


def api_token(app: Path, env: dict[str, str]) -> str:
    """A new admin API token for the benchmark's requests."""
    return subprocess.run(
        [sys.executable, "-m", "product_importer", "tokens", "create", "benchmark"],
        cwd=app,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def wait_until_healthy(base: str, work: Path, timeout_s: float = 60) -> None:
    """Wait for the API server at `base` to answer /health (its log is in `work`)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"the API server did not start; see {work}")
        time.sleep(0.2)


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    out = log.open("ab")
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--keep-file", action="store_true", help="keep the generated CSV")
    parser.add_argument(
        "--drop-index",
        action="append",
        default=[],
        metavar="NAME",
        help="drop this index of products before importing (repeatable): what it costs",
    )
    parser.add_argument(
        "--bare-catalog",
        action="store_true",
        help="drop the catalog's list indexes (sort, trigram) and keep only the primary key "
        "and a plain unique lower(sku) index: what those indexes cost an import",
    )
    parser.add_argument(
        "--embedded",
        action="store_true",
        help="on a throwaway embedded PostgreSQL (the zero-setup default's), not the local one",
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="import-bench-"))
    path = work / f"catalog-{args.rows}.csv"
    t = time.perf_counter()
    generate_csv(path, args.rows)
    size_mb = path.stat().st_size / 2**20
    print(f"generated {args.rows:,} rows, {size_mb:.1f} MB in {time.perf_counter() - t:.1f}s")

    embedded = None
    admin_url = ADMIN_URL
    if args.embedded:
        sys.path.insert(0, str(ROOT))
        from product_importer.embedded import start_postgres

        embedded = start_postgres(work / "pg")
        url = embedded.url  # the throwaway server's own, empty database
        print("on a throwaway embedded PostgreSQL")
    else:
        url = fresh_database(BENCH_DB, admin_url)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": REDIS_URL,
        "REDIS_NAMESPACE": "product_importer_bench",
        "MAX_UPLOAD_MB": "4096",
    }
    migrate(ROOT, env)
    if args.bare_catalog:
        drop_catalog_indexes(url)
    for name in args.drop_index:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP INDEX "{name}"')
        print(f"dropped index {name}")
    token = api_token(ROOT, env)
    port = free_port()
    web = start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "product_importer.api:api",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env,
        work / "web.log",
    )
    worker = start(
        [
            sys.executable,
            "-m",
            "dramatiq",
            "product_importer.worker",
            "--processes",
            "1",
            "--threads",
            "1",
        ],
        env,
        work / "worker.log",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, work)
        time.sleep(1.0)  # let the worker finish booting
        if worker.poll() is not None:
            raise SystemExit("the worker did not start; see " + str(work / "worker.log"))

        fresh = import_once(base, token, path, worker, web)
        catch_up_s, during = wait_for_catch_up(url, base, token)
        after = time_list_queries(base, token, 10)
        again = import_once(base, token, path, worker, web)
    finally:
        web.terminate()
        worker.terminate()
        web.wait()
        worker.wait()

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE floor_products (sku text NOT NULL, name text, description text,"
            " price numeric(12, 2), active boolean)"
        )
        conn.execute("CREATE UNIQUE INDEX ON floor_products (lower(sku))")
        conn.execute("CREATE TABLE floor_indexed (LIKE products INCLUDING ALL)")
    floor_same_schema = floor_once(url, path, upsert=True, table="floor_indexed")
    floor_fresh = floor_once(url, path, upsert=True)
    floor_unchanged = floor_once(url, path, upsert=True)
    bare_copy = floor_once(url, path, upsert=False)

    def line(label: str, run: Run, floor: float) -> None:
        job = run.job
        print(
            f"{label:<10} {run.seconds:6.2f} s  {args.rows / run.seconds:>9,.0f} rows/s  "
            f"{run.seconds / floor:4.2f}x floor  worker peak RSS {run.worker_rss / 2**20:5.0f} MB"
            f"  web peak RSS {run.web_rss / 2**20:5.0f} MB  status={job['status']} "
            f"created={job['created']} updated={job['updated']} "
            f"unchanged={job['unchanged']} skipped={job['skipped']}  stages={job['timings']}"
        )

    print(
        f"floor: fresh {floor_fresh:.2f} s, unchanged {floor_unchanged:.2f} s, "
        f"bare COPY {bare_copy:.2f} s, same-schema fresh {floor_same_schema:.2f} s "
        f"({floor_same_schema / floor_fresh:.2f}x the key-only floor)"
    )
    line("fresh", fresh, floor_fresh)
    line("unchanged", again, floor_unchanged)
    print(f"search catch-up after the fresh import: {catch_up_s:.1f} s")
    if any(during.values()):
        print_list_times("during the catch-up", {k: v for k, v in during.items() if v})
    print_list_times("after the catch-up", after)
    if embedded is not None:
        embedded.stop()
    else:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    if not args.keep_file:
        path.unlink()


if __name__ == "__main__":
    main()
