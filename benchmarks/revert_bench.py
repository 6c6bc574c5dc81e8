"""Revert benchmark: what before-images cost an import, and how long a revert takes.

Generates two deterministic CSVs of the same SKUs (import_bench's generator, two seeds:
the second changes every product), starts an API server and a worker against a scratch
database, and through the API times: a fresh import, a re-import that changes every
product, the revert of that re-import (every product given its values back) and the
revert of the fresh import (every product deleted). It prints the before-images' size
per product (pg_total_relation_size / products) for created products (an id range per
batch) and for updated ones (values before).

With `--baseline DIR` (a copy of the code without before-images, e.g.
`git archive main | tar -x -C DIR`) it times the same two imports with that code too, on
a scratch database of its own, round after round alternating with this code (`--rounds`,
medians shown): the machine's load moves a single run by more than the cost measured.

    python benchmarks/revert_bench.py --rows 100000 --baseline /tmp/base
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
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
    wait_until_healthy,
)

BENCH_DB = os.environ.get("BENCH_DATABASE_NAME", "product_importer_revert_bench")


class App:
    """An API server and a one-thread worker of the code in `app`, on a fresh database."""

    def __init__(self, app: Path, database: str, work: Path) -> None:
        self.app, self.work = app, work
        self.url = fresh_database(database)
        self.env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "REDIS_URL": REDIS_URL,
            "REDIS_NAMESPACE": database,
            "MAX_UPLOAD_MB": "4096",
            "PYTHONPATH": str(app),
        }
        migrate(app, self.env)
        self.token = api_token(app, self.env)
        self.base = f"http://127.0.0.1:{free_port()}"
        port = self.base.rsplit(":", 1)[1]
        self.procs = [
            self._start(["uvicorn", "product_importer.api:api", "--port", port], "web"),
            self._start(
                ["dramatiq", "product_importer.worker", "--processes", "1", "--threads", "1"],
                "worker",
            ),
        ]
        wait_until_healthy(self.base, work)
        time.sleep(1.0)  # let the worker finish booting
        self.client = httpx.Client(
            base_url=self.base, timeout=600, headers={"Authorization": f"Bearer {self.token}"}
        )

    def _start(self, args: list[str], name: str) -> subprocess.Popen:
        out = (self.work / f"{name}-{self.app.name}.log").open("ab")
        return subprocess.Popen(
            [sys.executable, "-m", *args], cwd=self.app, env=self.env, stdout=out, stderr=out
        )

    def follow(self, path: str) -> None:
        with self.client.stream("GET", path) as events:
            for _ in events.iter_lines():
                pass  # the stream ends with the terminal status

    def settle(self) -> None:
        """Wait (off the clock) until the indexes a big import or revert set aside are
        built again: the one-thread worker builds them before its next message, which
        would otherwise count in the next step's time."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            while conn.execute("SELECT count(*) FROM deferred_indexes").fetchone() != (0,):
                time.sleep(0.5)
        time.sleep(1.0)  # the worker's message ends after the last build

    def import_file(self, path: Path) -> tuple[float, dict]:
        started = time.perf_counter()
        with path.open("rb") as f:
            response = self.client.post("/api/imports", files={"file": (path.name, f, "text/csv")})
        response.raise_for_status()
        job_id = response.json()["id"]
        self.follow(f"/api/imports/{job_id}/events")
        return time.perf_counter() - started, self.client.get(f"/api/imports/{job_id}").json()

    def revert(self, job_id: int, **body: bool) -> tuple[float, dict]:
        started = time.perf_counter()
        self.client.post(f"/api/imports/{job_id}/revert", json=body).raise_for_status()
        self.follow(f"/api/imports/{job_id}/revert/events")
        seconds = time.perf_counter() - started
        return seconds, self.client.get(f"/api/imports/{job_id}/revert").json()["revert"]

    def before_images(self, job_id: int) -> tuple[int, int, int]:
        """(products recorded for this job, bytes of import_before_images, bytes of
        import_created_ranges)."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE import_before_images, import_created_ranges")
            row = conn.execute(
                """SELECT (SELECT count(*) FROM import_before_images WHERE job_id = %s)
                          + (SELECT coalesce(sum(created), 0) FROM import_created_ranges
                             WHERE job_id = %s),
                          pg_total_relation_size('import_before_images'),
                          pg_total_relation_size('import_created_ranges')""",
                (job_id, job_id),
            ).fetchone()
        assert row is not None
        return int(row[0]), int(row[1]), int(row[2])

    def stop(self) -> None:
        self.client.close()
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.wait()
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.url.rsplit("/", 1)[1]}" WITH (FORCE)')


def describe(label: str, seconds: float, rows: int, job: dict) -> str:
    keys = ("created", "updated", "unchanged", "deleted", "restored", "conflicts_restored")
    counts = {k: job.get(k) for k in keys}
    shown = {k: v for k, v in counts.items() if v is not None}
    return f"{label:<34} {seconds:6.2f} s  {rows / seconds:>9,.0f} rows/s  {shown}"


BATCH = 10_000


def _batches(url: str, dedup: str, products: int, *, record: bool) -> float:
    """Apply `dedup` to the catalog in the engine's batches (one connection), with or
    without the before-images; answer the seconds."""
    from psycopg import sql

    from product_importer.imports.before_images import record_updates, write_recording_created
    from product_importer.imports.engine import _UPSERT

    table = sql.Identifier(dedup)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        started = time.perf_counter()
        for n in range(1, -(-products // BATCH) + 1):
            bounds = {
                "job_id": 1,
                "first": (n - 1) * BATCH,
                "last": n * BATCH,
                "all": False,
                "batch": n,
            }
            with conn.transaction():
                if record:
                    record_updates(conn, table, bounds)
                    write_recording_created(conn, _UPSERT, table, bounds)
                else:
                    conn.execute(sql.SQL(_UPSERT).format(dedup=table), bounds).fetchall()
        seconds = time.perf_counter() - started
        conn.execute("TRUNCATE import_before_images")
        conn.execute("VACUUM ANALYZE products")
    return seconds


def _wal_of(conn: psycopg.Connection, statement: object, bounds: dict) -> int:
    """WAL bytes a statement writes (EXPLAIN ANALYZE's count: the machine's load does not
    move it)."""
    from psycopg import sql

    explain = sql.SQL("EXPLAIN (ANALYZE, BUFFERS, WAL, FORMAT JSON) ") + statement  # type: ignore[operator]
    row = conn.execute(explain, bounds).fetchone()
    assert row is not None
    return int(row[0][0]["Plan"].get("WAL Bytes", 0))


def wal_cost(url: str, dedup: str) -> str:
    """WAL bytes of one batch's upsert, and of its before-images, rolled back after."""
    from psycopg import sql

    from product_importer.imports.before_images import _COLUMNS, _RECORD_CREATED, _RECORD_UPDATES
    from product_importer.imports.engine import _UPSERT

    table = sql.Identifier(dedup)
    bounds = {"job_id": 1, "first": 0, "last": BATCH, "all": False, "batch": 1}
    upsert = sql.SQL(_UPSERT).format(dedup=table)
    with psycopg.connect(url) as conn:
        conn.execute("CHECKPOINT")  # full-page images alike for both
        plain = _wal_of(conn, upsert, bounds)
        conn.rollback()
        conn.execute("CHECKPOINT")
        images = _wal_of(
            conn,
            sql.SQL(_RECORD_UPDATES).format(columns=sql.SQL(_COLUMNS), dedup=table),
            bounds,
        )
        recorded = images + _wal_of(conn, sql.SQL(_RECORD_CREATED).format(write=upsert), bounds)
        conn.rollback()
    return (
        f"WAL of one batch of {BATCH:,} changed products: upsert {plain / 2**20:.1f} MB, "
        f"with before-images {recorded / 2**20:.1f} MB ({100 * (recorded / plain - 1):+.1f}%; "
        f"the before-images themselves {images / 2**20:.1f} MB)"
    )


def batch_cost(products: int, rounds: int, work: Path) -> list[str]:
    """The apply step alone, in the database: the engine's upsert of a batch of changed
    products without and with its before-images, alternating, on a scratch database
    (less noisy than a whole import: no upload, staging or dedupe around it)."""
    url = fresh_database(BENCH_DB + "_batches")
    migrate(ROOT, {**os.environ, "DATABASE_URL": url})
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO import_jobs (filename) VALUES ('bench')")
        conn.execute(
            """INSERT INTO products (sku, name, description, price, active)
               SELECT 'SKU-' || lpad(i::text, 8, '0'), 'name ' || i,
                      repeat('word ', 40) || i, i %% 1000, true
               FROM generate_series(1, %s) i""",
            (products,),
        )
        # Two sets of other values: each run changes every product.
        for tag in ("a", "b"):
            conn.execute(
                f"""CREATE UNLOGGED TABLE dedup_{tag} AS
                    SELECT row_number() OVER (ORDER BY lower(sku))::integer AS seq,
                           lower(sku) AS key, sku, name || ' {tag}' AS name,
                           description || ' {tag}' AS description, price + 1 AS price,
                           active, true AS known, false AS same
                    FROM products"""
            )
            conn.execute(f"CREATE UNIQUE INDEX ON dedup_{tag} (seq)")
        conn.execute("VACUUM ANALYZE")
    times: dict[bool, list[float]] = {False: [], True: []}
    try:
        wal = wal_cost(url, "dedup_a")
        flip = 0
        for round_number in range(rounds):
            # Alternate which goes first: the catalog's indexes grow from run to run.
            for record in (False, True) if round_number % 2 == 0 else (True, False):
                flip ^= 1
                times[record].append(_batches(url, f"dedup_{'ab'[flip]}", products, record=record))
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}_batches" WITH (FORCE)')
    plain, recorded = (statistics.median(times[k]) for k in (False, True))
    return [
        f"apply step alone, {products:,} changed products in batches of {BATCH:,}: upsert "
        f"{plain:.2f} s, with before-images {recorded:.2f} s ({100 * (recorded / plain - 1):+.1f}%,"
        f" medians of {rounds}: {[round(t, 2) for t in times[False]]} / "
        f"{[round(t, 2) for t in times[True]]})",
        wal,
    ]


def empty_catalog(app: App) -> None:
    """Back to an empty catalog and no imports (between rounds)."""
    with psycopg.connect(app.url, autocommit=True) as conn:
        conn.execute("TRUNCATE products, import_jobs CASCADE")
        conn.execute("VACUUM ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline", type=Path, help="code without before-images to compare")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="import pairs per app, alternating with the baseline (medians shown)",
    )
    parser.add_argument(
        "--batch-cost",
        action="store_true",
        help="only time the apply step in the database, without and with before-images",
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="revert-bench-"))
    if args.batch_cost:
        print("\n".join(batch_cost(args.rows - args.rows // 10, max(args.rounds, 5), work)))
        return
    first, second = work / "first.csv", work / "second.csv"
    generate_csv(first, args.rows, seed=42)
    generate_csv(second, args.rows, seed=43)  # the same SKUs, every product changed

    app = App(ROOT, BENCH_DB, work)
    base = App(args.baseline.resolve(), BENCH_DB + "_base", work) if args.baseline else None
    apps = [a for a in (base, app) if a is not None]
    times: dict[str, dict[str, list[float]]] = {
        a.app.name: {"fresh": [], "change": []} for a in apps
    }
    try:
        for round_number in range(args.rounds):
            # Alternate which goes first, so a busy moment of the machine falls on both.
            for each in apps if round_number % 2 == 0 else reversed(apps):
                empty_catalog(each)
                fresh_s, fresh = each.import_file(first)
                each.settle()
                change_s, change = each.import_file(second)
                each.settle()
                times[each.app.name]["fresh"].append(fresh_s)
                times[each.app.name]["change"].append(change_s)
        created_rows, _, ranges_bytes = app.before_images(fresh["id"])
        updated_rows, images_bytes, _ = app.before_images(change["id"])
        revert_change_s, revert_change = app.revert(change["id"])
        app.settle()
        # The re-import's revert changed every product again: the fresh import's revert
        # restores them too (deletes them all).
        revert_fresh_s, revert_fresh = app.revert(fresh["id"], restore_conflicts=True)
    finally:
        for each in apps:
            each.stop()

    def summary(label: str, seconds: list[float]) -> str:
        median = statistics.median(seconds)
        runs = ", ".join(f"{t:.2f}" for t in seconds)
        return f"{label:<40} median {median:6.2f} s  {args.rows / median:>9,.0f} rows/s  ({runs})"

    lines = []
    for each in apps:
        who = "before-images" if each is app else "baseline"
        lines.append(summary(f"{who}: fresh import", times[each.app.name]["fresh"]))
        lines.append(summary(f"{who}: re-import changing all", times[each.app.name]["change"]))
    if base is not None:
        for step in ("fresh", "change"):
            ratio = statistics.median(times[app.app.name][step]) / statistics.median(
                times[base.app.name][step]
            )
            lines.append(f"cost of before-images, {step}: {100 * (ratio - 1):+.1f}% (medians)")
    lines += [
        describe(
            "revert of the re-import (restore all)", revert_change_s, args.rows, revert_change
        ),
        describe(
            "revert of the fresh import (delete all)", revert_fresh_s, args.rows, revert_fresh
        ),
        f"before-images of created products: {created_rows:,} products, "
        f"{ranges_bytes / max(1, created_rows):.1f} bytes each (an id range per batch)",
        f"before-images of updated products: {updated_rows:,} products, "
        f"{images_bytes / max(1, updated_rows):.0f} bytes each (values before)",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
