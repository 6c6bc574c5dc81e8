"""The import engine in-process against real PostgreSQL and Redis: cancel, aborted and
oversized uploads, dropped connections, lost staging data."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import psycopg
import pytest

from product_importer.imports import engine, jobs
from product_importer.imports.intake import UploadTooLarge, receive_import
from product_importer.imports.tables import staging_table
from product_importer.models import JobStatus
from tests.support import catalog, csv_bytes, wait_until


async def chunked(data: bytes, size: int = 4096) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def stage(data: bytes, filename: str = "c.csv", **kw):
    return asyncio.run(receive_import(filename, chunked(data), **kw))


def counts(db: psycopg.Connection, table: str) -> int:
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_upload_over_the_limit_without_a_length_stops_and_leaves_nothing(db) -> None:
    data = csv_bytes(catalog(20_000))
    with pytest.raises(UploadTooLarge, match="larger than the 0.5 MB limit"):
        stage(data, max_bytes=2**19)
    assert counts(db, "import_jobs") == 0
    assert db.execute("SELECT to_regclass('import_staging_1')").fetchone()[0] is None


def test_upload_broken_off_midway_leaves_no_job(db) -> None:
    async def broken() -> AsyncIterator[bytes]:
        data = csv_bytes(catalog(20_000))
        yield data[:100_000]
        yield data[100_000:200_000]
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        asyncio.run(receive_import("c.csv", broken()))
    assert counts(db, "import_jobs") == 0
    assert counts(db, "import_row_errors") == 0


def test_cancelling_a_queued_job_stops_it_before_any_row(db) -> None:
    job = stage(csv_bytes(catalog(100)))
    cancelled = jobs.cancel_job(job.id)
    assert cancelled.status == JobStatus.cancelled
    assert db.execute("SELECT to_regclass(%s)", (f"import_staging_{job.id}",)).fetchone()[0] is None
    finished = engine.apply_import(job.id)
    assert finished is not None and finished.status == JobStatus.cancelled
    assert counts(db, "products") == 0


def apply_in_background(job_id: int, batch_size: int, *, once_processed: int):
    """Start applying the job in a thread; return once `once_processed` rows are done,
    with a function that waits for the end and answers the final job."""
    result: list = []
    runner = threading.Thread(
        target=lambda: result.append(engine.apply_import(job_id, batch_size=batch_size))
    )
    runner.start()
    wait_until(
        lambda: jobs.get_job(job_id).processed_rows > once_processed,
        timeout=30,
        what=f"{once_processed} rows applied",
    )

    def finish():
        runner.join(timeout=120)
        return result[0]

    return finish


def test_cancelling_a_running_job_stops_at_a_batch_boundary(db) -> None:
    job = stage(csv_bytes(catalog(3000)))
    finish = apply_in_background(job.id, 5, once_processed=0)
    jobs.cancel_job(job.id)
    final = finish()
    assert final.status == JobStatus.cancelled
    assert 0 < final.created < 3000
    assert counts(db, "products") == final.created  # what was applied stays, exactly counted
    assert final.created % 5 == 0  # whole batches only
    assert db.execute("SELECT to_regclass(%s)", (f"import_dedup_{job.id}",)).fetchone()[0] is None


def test_dropped_database_connections_are_retried_and_counts_stay_exact(db, worker) -> None:
    """The actor's one retry layer (Dramatiq's retry_when) takes the import up again after
    every connection of the worker was killed mid-way; it resumes from its checkpoint."""
    from product_importer.imports.kind import IMPORTS

    job = stage(csv_bytes(catalog(20_000)))
    IMPORTS.enqueue(job.id)
    wait_until(
        lambda: jobs.get_job(job.id).processed_rows > 2000, timeout=60, what="2000 rows applied"
    )
    killed = db.execute(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND backend_type = 'client backend'"
    ).fetchone()[0]
    assert killed >= 1
    wait_until(
        lambda: JobStatus(jobs.get_job(job.id).status).is_terminal, timeout=120, what="the end"
    )
    final = jobs.get_job(job.id)
    assert final.status == JobStatus.completed, final.error
    assert (final.created, final.processed_rows) == (20_000, 20_000)
    assert sorted(final.done_batches) == list(range(1, 101))
    assert counts(db, "products") == 20_000


def test_lost_staging_data_fails_the_job_with_a_clear_message(db) -> None:
    job = stage(csv_bytes(catalog(10)))
    db.execute(f"TRUNCATE {staging_table(job.id).as_string(db)}")  # as after a server crash
    from product_importer.imports.actors import run_import

    run_import.fn(job.id)
    failed = jobs.get_job(job.id)
    assert failed.status == JobStatus.failed
    assert "staged rows of this import were lost" in (failed.error or "")
    assert failed.finished_at is not None
    assert counts(db, "products") == 0


def test_a_header_only_file_completes_with_nothing_to_do(db) -> None:
    job = stage(b"sku,name,description\n")
    final = engine.apply_import(job.id)
    assert final.status == JobStatus.completed
    assert (final.total_rows, final.created, final.processed_rows) == (0, 0, 0)


def test_progress_snapshot_is_published_to_redis(db) -> None:
    import redis

    from product_importer.imports.kind import ImportSnapshot
    from product_importer.redis_client import key
    from product_importer.settings import settings

    job = stage(csv_bytes(catalog(50)))
    engine.apply_import(job.id)
    client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    stored = client.hget(key("import", job.id, "progress"), "snapshot")
    snapshot = ImportSnapshot.from_json(stored)
    assert (snapshot.status, snapshot.created, snapshot.percent) == ("completed", 50, 100.0)
    assert snapshot.eta_seconds == 0.0


def test_a_product_created_while_the_import_runs_is_upserted_not_duplicated(db) -> None:
    job = stage(csv_bytes(catalog(30) + [("RACE-1", "From file", "d", "2", "")]))
    from product_importer import db as database

    with database.connect() as conn:
        engine._deduplicate(conn, job, batch_size=10)
    db.execute("INSERT INTO products (sku, name, description) VALUES ('race-1', 'Typed', 'x')")
    final = engine.apply_import(job.id)
    assert final.status == JobStatus.completed
    assert (final.created, final.updated, final.unchanged) == (30, 1, 0)
    assert db.execute("SELECT sku, name FROM products WHERE lower(sku) = 'race-1'").fetchall() == [
        ("RACE-1", "From file")
    ]
    assert counts(db, "products") == 31


def test_a_batch_committed_by_another_run_is_not_applied_or_counted_twice(db) -> None:
    job = stage(csv_bytes(catalog(25)))
    from product_importer import db as database

    with database.connect(autocommit=True) as conn:
        job = engine._deduplicate(conn, job, batch_size=10)
        first = engine._apply_batch(conn, job.id, 1, 10, job.distinct_rows)
        with pytest.raises(engine._AlreadyApplied):
            engine._apply_batch(conn, job.id, 1, 10, job.distinct_rows)
    assert (first.created, first.done_batches) == (10, [1])
    final = engine.apply_import(job.id)
    assert (final.status, final.created, final.processed_rows) == ("completed", 25, 25)
    assert sorted(final.done_batches) == [1, 2, 3]
    assert counts(db, "products") == 25


def test_an_import_that_cannot_be_queued_fails_clearly_instead_of_waiting(db, monkeypatch) -> None:
    from product_importer.broker import broker

    def broker_down(*args, **kwargs):
        raise ConnectionError("Redis is unreachable")

    monkeypatch.setattr(broker, "enqueue", broker_down)
    job = asyncio.run(jobs.start_import("c.csv", chunked(csv_bytes(catalog(5)))))
    assert job.status == JobStatus.failed
    assert job.error == "could not queue the import: Redis is unreachable"
    assert db.execute("SELECT to_regclass(%s)", (f"import_staging_{job.id}",)).fetchone()[0] is None
