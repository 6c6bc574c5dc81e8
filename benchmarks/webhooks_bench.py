"""Webhook benchmark: 1,000 product changes, 3 endpoints, a local receiver.

Starts its own Dramatiq worker (whose relay fans events out) against a scratch database,
creates three endpoints subscribed to every event on a local HTTP receiver, then commits
1,000 product changes, each in its own transaction with its `product.updated` event (as
the products code does). It prints deliveries per second (all 3,000 deliveries, from the
first commit to the last receipt) and the lag from each change's commit to its receipt
(p50 / p95 / max), and checks that every (event, endpoint) arrived exactly once.

    python benchmarks/webhooks_bench.py [--changes 1000] [--processes 1] [--threads 8] [--rate 0]

Needs a PostgreSQL (BENCH_ADMIN_DATABASE_URL, default the local server) and a Redis
(BENCH_REDIS_URL, default local DB 12); it creates and drops its own database.
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

import psycopg
from psycopg.rows import dict_row

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get(
    "BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
BENCH_DB = "product_importer_bench_webhooks"
ENDPOINT_PATHS = ("/a", "/b", "/c")

# The app reads its settings on import: point it at the scratch database first.
ENV = {
    "DATABASE_URL": ADMIN_URL.rsplit("/", 1)[0] + "/" + BENCH_DB,
    "REDIS_URL": REDIS_URL,
    "REDIS_NAMESPACE": "product_importer_bench_webhooks",
    # The receiver listens on loopback.
    "WEBHOOK_ALLOW_PRIVATE": "1",
}
os.environ.update(ENV)
sys.path.insert(0, str(ROOT))

from product_importer.events import EventType, record_event  # noqa: E402
from product_importer.events.payloads import ProductData  # noqa: E402
from product_importer.models import Product  # noqa: E402
from product_importer.webhooks.endpoints import create_endpoint  # noqa: E402
from tests.webhook_receiver import Receiver  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def prepare_database(products: int) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {BENCH_DB}")
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        env={**os.environ, **ENV},
        check=True,
        capture_output=True,
    )
    with psycopg.connect(ENV["DATABASE_URL"], autocommit=True) as conn:
        conn.execute(
            """INSERT INTO products (sku, name, description, price)
               SELECT 'BENCH-' || i, 'Product ' || i, 'Benchmark product', 10
               FROM generate_series(1, %s) AS i""",
            (products,),
        )


def change_products(count: int, rate: float) -> dict[int, float]:
    """Commit `count` product changes, each with its event; answer commit time by event id."""
    committed: dict[int, float] = {}
    interval = 1 / rate if rate else 0.0
    started = time.monotonic()
    with psycopg.connect(ENV["DATABASE_URL"]) as conn:
        for n in range(count):
            if interval:
                time.sleep(max(0.0, started + n * interval - time.monotonic()))
            with conn.cursor(row_factory=dict_row) as cur:
                row = cur.execute(
                    """UPDATE products SET price = price + 1, updated_at = now() WHERE id = %s
                       RETURNING *""",
                    (n % count + 1,),
                ).fetchone()
            event_id = record_event(
                conn, EventType.product_updated, ProductData.of(Product.model_validate(row))
            )
            conn.commit()
            committed[event_id] = time.time()
    return committed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=1, help="worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker process")
    parser.add_argument(
        "--rate", type=float, default=0, help="changes per second (0: as fast as possible)"
    )
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    prepare_database(args.changes)
    receiver = Receiver().start()
    for path in ENDPOINT_PATHS:
        create_endpoint(receiver.url(path), ["*"], description=f"benchmark {path}")
    work = Path(tempfile.mkdtemp(prefix="webhooks-bench-"))
    log = (work / "worker.log").open("ab")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dramatiq",
            "product_importer.worker",
            "--processes",
            str(args.processes),
            "--threads",
            str(args.threads),
        ],
        cwd=ROOT,
        env={**os.environ, **ENV},
        stdout=log,
        stderr=log,
    )
    expected = args.changes * len(ENDPOINT_PATHS)
    try:
        time.sleep(3)  # the worker boots and its relay starts listening
        if worker.poll() is not None:
            raise SystemExit(f"the worker did not start; see {work / 'worker.log'}")
        first_change = time.time()
        committed = change_products(args.changes, args.rate)
        changes_took = time.time() - first_change
        receiver.wait_for(expected, timeout=args.timeout)
    finally:
        worker.terminate()
        worker.wait()
        receiver.stop()

    received = receiver.requests()
    lags: list[float] = []
    by_event: dict[str, int] = {}
    with psycopg.connect(ENV["DATABASE_URL"]) as conn:
        # webhook-id -> event id, to match each receipt with its change's commit.
        for message_id, event_id in conn.execute(
            "SELECT message_id, event_id FROM webhook_deliveries"
        ):
            by_event[message_id] = event_id
        # Where the lag goes: waiting for a worker, or the HTTP call itself.
        http_ms, queued_ms, attempts = conn.execute(
            """SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY a.latency_ms),
                      percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM
                          a.attempted_at - d.created_at) * 1000),
                      count(*)
               FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id"""
        ).fetchone()
    for request in received:
        lags.append(request.at - committed[by_event[request.headers["webhook-id"]]])
    keys = {(r.path, r.headers["webhook-id"]) for r in received}
    last = max(r.at for r in received)
    total_s = last - first_change
    print(
        f"{args.changes:,} changes x {len(ENDPOINT_PATHS)} endpoints = {len(received):,} "
        f"deliveries ({len(keys):,} distinct; expected {expected:,}); worker "
        f"{args.processes} x {args.threads} threads; changes committed at "
        f"{args.changes / changes_took:,.0f}/s"
    )
    print(
        f"deliveries/s {len(received) / total_s:,.0f}  (first commit to last receipt "
        f"{total_s:.2f} s)"
    )
    print(
        f"lag commit->receipt: p50 {statistics.median(lags) * 1000:,.0f} ms  "
        f"p95 {percentile(lags, 95) * 1000:,.0f} ms  max {max(lags) * 1000:,.0f} ms"
    )
    print(
        f"attempts {attempts:,}; median HTTP call {http_ms:,.0f} ms; median wait from fan-out "
        f"to the attempt's start {queued_ms:,.0f} ms"
    )
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    if len(keys) != expected or len(received) != expected:
        raise SystemExit("some deliveries were missing or repeated")


if __name__ == "__main__":
    main()
