"""The intake in-process against real PostgreSQL: files without a final line break, slow and
silent clients, every upload thread taken, the database connection killed mid-upload.
Whatever happens, nothing half-staged is left: no job, no staging table, no transaction."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from product_importer import db as app_db
from product_importer.catalog_guard import CATALOG_LOCK
from product_importer.imports import engine, intake, upload_pace, upload_threads
from product_importer.imports.intake import (
    StagingUnavailable,
    UploadsBusy,
    UploadStalled,
    receive_import,
)
from product_importer.imports.upload_threads import UploadThreads
from product_importer.models import JobStatus
from product_importer.settings import settings
from tests.support import catalog, csv_bytes, free_port, wait_until

HEADER = b"sku,name,description,price,active\n"
# A bound for each case: generous, it only turns a hang into a failure.
CASE_TIMEOUT_S = 60


async def chunked(data: bytes, size: int = 4096) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def run(coro):
    async def bounded():
        return await asyncio.wait_for(coro, CASE_TIMEOUT_S)

    return asyncio.run(bounded())


def leftovers(db: psycopg.Connection) -> dict[str, int]:
    """Jobs, staging tables and open upload transactions."""
    return {
        "jobs": db.execute("SELECT count(*) FROM import_jobs").fetchone()[0],
        "tables": db.execute(
            "SELECT count(*) FROM pg_tables WHERE tablename ~ '^import_(staging|dedup)_'"
        ).fetchone()[0],
        # An upload's transaction holds the catalog lock (catalog_guard) until it ends.
        "transactions": db.execute(
            "SELECT count(DISTINCT pid) FROM pg_locks WHERE locktype = 'advisory' "
            "AND classid = %s AND objid = %s "
            # pg_locks is the whole server's: only this database's uploads count.
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            CATALOG_LOCK,
        ).fetchone()[0],
    }


NOTHING = {"jobs": 0, "tables": 0, "transactions": 0}


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch):
    """Upload limits small enough for a test: 1 s read timeout, 2 threads, 1 s pace window."""
    monkeypatch.setattr(intake, "settings", dataclasses.replace(settings, upload_read_timeout_s=1))
    monkeypatch.setattr(intake, "upload_threads", UploadThreads(2))
    monkeypatch.setattr(upload_pace, "PACE_WINDOW_S", 1.0)


@pytest.mark.parametrize(
    ("data", "rows"),
    [
        (b"sku,name,description\nA1,n,d\nA2,m,e", 2),
        (b"sku,name,description", 0),
        (b"sku,name,description\nA1,n,d\r", 1),
        (b'sku,name,description\nA1,n,"never closed\nA2,m,e', 2),
    ],
    ids=["no-final-break", "header-only-no-break", "lone-cr", "unclosed-quote"],
)
def test_files_without_a_final_line_break_become_jobs_that_complete(db, data, rows) -> None:
    job = run(receive_import("c.csv", chunked(data, 7)))
    assert job.total_rows == rows
    final = engine.apply_import(job.id)
    assert final.status == JobStatus.completed
    assert leftovers(db) == {**NOTHING, "jobs": 1}


def test_the_job_counts_every_physical_line(db) -> None:
    data = HEADER + b'A1,n,d,1,yes\r\n\r\nA2,m,"two\nlines",2,no\rA3,o,e,x,yes'
    job = run(receive_import("c.csv", chunked(data, 5)))
    assert (job.file_lines, job.blank_lines, job.total_rows) == (6, 1, 3)


async def stalls_after(data: bytes) -> AsyncIterator[bytes]:
    yield data
    await asyncio.sleep(3600)
    yield b""


def test_a_client_that_stops_sending_is_cut_off_and_leaves_nothing(db, quick) -> None:
    data = HEADER + b"".join(b"S%d,n,d,1,yes\n" % i for i in range(50))
    with pytest.raises(UploadStalled, match="nothing arrived for 1 s"):
        run(receive_import("c.csv", stalls_after(data)))
    assert leftovers(db) == NOTHING


async def trickles(rows: int) -> AsyncIterator[bytes]:
    yield HEADER
    for i in range(rows):
        await asyncio.sleep(0.3)
        yield b"T%d,n,d,1,yes\n" % i


def test_a_client_that_trickles_rows_is_cut_off_and_leaves_nothing(db, quick) -> None:
    with pytest.raises(UploadStalled, match="too slow"):
        run(receive_import("c.csv", trickles(1000)))
    assert leftovers(db) == NOTHING


async def steady(rows: int) -> AsyncIterator[bytes]:
    """A client that sends a row every 0.2 s: slow, but never silent for 1 s."""
    yield HEADER
    for i in range(rows):
        await asyncio.sleep(0.2)
        yield b"H%d,n,d,1,yes\n" % i


def test_uploads_never_take_the_default_executor_and_wait_for_a_free_thread(db, quick, monkeypatch):
    """Uploads hold threads of their own; the loop's default executor (where the page's
    access check runs) stays free, and an upload beyond the pool is refused clearly."""
    monkeypatch.setattr(upload_pace, "PACE_WINDOW_S", 3600.0)  # judge the pace never
    monkeypatch.setattr(
        intake, "settings", dataclasses.replace(intake.settings, upload_slot_wait_s=1.0)
    )

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(max_workers=1))
        held = [asyncio.ensure_future(receive_import(f"s{i}.csv", steady(15))) for i in range(2)]
        await asyncio.sleep(0.3)  # both are staging now
        # The default executor answers at once although every upload thread is taken.
        assert await asyncio.wait_for(loop.run_in_executor(None, lambda: 42), 5) == 42
        with pytest.raises(UploadsBusy, match="already receiving 2 files"):
            await receive_import("third.csv", chunked(csv_bytes(catalog(3))))
        assert [(await upload).total_rows for upload in held] == [15, 15]
        # The threads are free again.
        job = await receive_import("after.csv", chunked(csv_bytes(catalog(3))))
        assert job.total_rows == 3

    run(scenario())
    assert leftovers(db) == {**NOTHING, "jobs": 3, "tables": 3}


def test_a_database_connection_killed_mid_upload_is_a_clear_error(db) -> None:
    data = csv_bytes(catalog(20_000))

    async def source() -> AsyncIterator[bytes]:
        yield data[:200_000]
        await asyncio.to_thread(
            wait_until, lambda: kill_staging_backend(db), timeout=30, what="the COPY to start"
        )
        for i in range(200_000, len(data), 65536):
            yield data[i : i + 65536]

    with pytest.raises(StagingUnavailable, match="database connection was lost"):
        run(receive_import("c.csv", source()))
    assert leftovers(db) == NOTHING


def kill_staging_backend(db: psycopg.Connection) -> bool:
    return bool(
        db.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND query ILIKE 'COPY%%import_staging%%'"
        ).fetchone()[0]
    )


@pytest.fixture
def unreachable_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's engine pointed at a port where no server listens."""
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    monkeypatch.setattr(app_db, "settings", dataclasses.replace(settings, database_url=url))
    app_db.engine.cache_clear()
    yield
    app_db.engine().dispose()
    app_db.engine.cache_clear()


def test_an_unreachable_database_is_a_clear_error(db, unreachable_database) -> None:
    with pytest.raises(StagingUnavailable, match="database could not be reached"):
        run(receive_import("c.csv", chunked(csv_bytes(catalog(10)))))


def test_uploads_take_at_most_half_the_connection_pool(monkeypatch) -> None:
    """Each upload holds a pooled connection while it streams: the rest serve requests."""
    monkeypatch.setattr(
        upload_threads, "settings", dataclasses.replace(settings, upload_threads=99)
    )
    assert upload_threads.upload_thread_count() == app_db.POOL_CAPACITY // 2
    monkeypatch.setattr(upload_threads, "settings", dataclasses.replace(settings, upload_threads=3))
    assert upload_threads.upload_thread_count() == 3
