"""The worker's side of an export job: COPY ... TO STDOUT of what the filters show, written
into `export_chunks` as it streams, with progress.

Three connections: one reads (a REPEATABLE READ snapshot, so the expected count and the
rows are the same catalog), one writes the chunks and the job's completion in one
transaction (a file is complete or absent: a worker that dies mid-way leaves nothing, and
the redelivered message writes it again from the start), and one, in autocommit, holds
the job's claim and writes its progress where watchers and API clients see it at once.
PostgreSQL sends COPY's output one row per message, so rows are counted as they come.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

import psycopg
from psycopg import sql

from product_importer import db
from product_importer.catalog_statistics import catalog_size
from product_importer.models import ExportJob
from product_importer.products.export import EXPORT_COLUMNS, export_query
from product_importer.products.export_jobs import (
    EXPORTS,
    ExportFormat,
    end_cancelled,
    export_snapshot,
    filters_of,
    remove_expired,
    retention_seconds,
    schedule_removal,
)
from product_importer.products.export_xlsx import XlsxWriter
from product_importer.products.listing import ProductFilter, where_clause

log = logging.getLogger(__name__)

# Bytes of CSV per stored chunk: big enough that a row per chunk costs nothing, small
# enough that a download holds one chunk at a time.
EXPORT_CHUNK_BYTES = 1 << 20
# Rows a workbook's writer takes at once.
XLSX_BATCH_ROWS = 2_000
# Progress is written at most this often (and with each chunk).
PROGRESS_INTERVAL_S = 0.5


class _Cancelled(Exception):
    """The job's cancel was asked for while it was written."""


def _expected(conn: psycopg.Connection, filters: ProductFilter) -> int:
    if filters.is_empty():
        return catalog_size(conn)
    where, params = where_clause(filters)
    query = sql.SQL("SELECT count(*) FROM products") + where
    return int(db.scalar(conn, query, params))


class _Progress:
    """Writes the job's counts over the claim's autocommit connection and tells watchers;
    answers whether a cancel was asked for."""

    def __init__(self, conn: psycopg.Connection, job_id: int) -> None:
        self.conn, self.job_id = conn, job_id
        self.last = 0.0

    def report(self, total: int, written: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < PROGRESS_INTERVAL_S:
            return
        self.last = now
        job = EXPORTS.fetch(
            self.conn,
            "UPDATE export_jobs SET total = %s, written = %s WHERE id = %s RETURNING *",
            (total, written, self.job_id),
        )
        if job is not None:
            EXPORTS.announce(export_snapshot(job))
            if job.cancel_requested:
                raise _Cancelled()


class _ChunkWriter:
    """Collects the CSV's pieces and stores them as chunks of about EXPORT_CHUNK_BYTES."""

    def __init__(self, conn: psycopg.Connection, job_id: int) -> None:
        self.conn, self.job_id = conn, job_id
        self.buffer = bytearray()
        self.chunks = self.size = 0

    def add(self, piece: bytes | bytearray | memoryview) -> bool:
        """Keep a piece; answers whether a chunk was stored."""
        self.buffer += piece
        if len(self.buffer) < EXPORT_CHUNK_BYTES:
            return False
        self.flush()
        return True

    def flush(self) -> None:
        if not self.buffer:
            return
        self.conn.execute(
            "INSERT INTO export_chunks (job_id, seq, data) VALUES (%s, %s, %s)",
            (self.job_id, self.chunks, bytes(self.buffer)),
            binary=True,
        )
        self.chunks += 1
        self.size += len(self.buffer)
        self.buffer.clear()


def _write_xlsx(
    copy: Iterable[bytes | bytearray | memoryview],
    writer: _ChunkWriter,
    report: Callable[[int], None],
) -> int:
    """The COPY's rows as a workbook into the chunks; answers how many rows."""
    xlsx = XlsxWriter(writer.add)
    xlsx.header(EXPORT_COLUMNS)
    written = 0
    batch: list[str] = []
    for piece in copy:
        written += 1
        batch.append(bytes(piece).decode())
        if len(batch) >= XLSX_BATCH_ROWS:
            xlsx.rows(batch)
            batch.clear()
            report(written)
    xlsx.rows(batch)
    xlsx.close()
    return written


def _write(
    read: psycopg.Connection, write: psycopg.Connection, job: ExportJob, progress: _Progress
) -> ExportJob | None:
    """Write the whole file and complete the job, in `write`'s one transaction."""
    job_id = int(job.id or 0)
    filters = filters_of(job)
    read.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    total = _expected(read, filters)
    progress.report(total, 0, force=True)
    writer = _ChunkWriter(write, job_id)
    written = 0
    query, params = export_query(filters)
    with write.transaction():
        write.execute("DELETE FROM export_chunks WHERE job_id = %s", (job_id,))
        with read.cursor() as cur, cur.copy(query, params) as copy:
            if job.format == ExportFormat.xlsx:
                written = _write_xlsx(copy, writer, lambda n: progress.report(total, n))
            else:
                writer.add((",".join(EXPORT_COLUMNS) + "\n").encode())
                for piece in copy:
                    written += 1
                    if writer.add(piece):
                        progress.report(total, written)
        read.rollback()
        writer.flush()
        return EXPORTS.fetch(
            write,
            """UPDATE export_jobs SET status = 'completed', total = %s, written = %s,
                   size_bytes = %s, chunks = %s, finished_at = clock_timestamp(),
                   expires_at = clock_timestamp() + make_interval(secs => %s)
               WHERE id = %s AND status = 'processing' RETURNING *""",
            (written, written, writer.size, writer.chunks, retention_seconds(), job_id),
        )


def run_export_job(job_id: int) -> ExportJob | None:
    """Run (or run again) an export to its end; for an ended one (its delayed message),
    remove it once its retention is up. Removes every other expired export too. Database
    errors propagate (the actor retries the transient ones)."""
    with (
        db.connect(autocommit=True) as conn,
        db.connect() as read,
        db.connect() as write,
    ):
        remove_expired(write)
        if not EXPORTS.claim(conn, job_id):
            log.info("export %s is being run by another worker", job_id)
            return None
        job = EXPORTS.fetch(
            conn,
            """UPDATE export_jobs SET status = 'processing', written = 0,
                   started_at = coalesce(started_at, clock_timestamp())
               WHERE id = %s AND status IN ('pending', 'processing') RETURNING *""",
            (job_id,),
        )
        if job is None:  # ended already (or removed): this was its removal's message
            return EXPORTS.select(conn, job_id)
        if job.cancel_requested:
            return end_cancelled(conn, job_id)
        EXPORTS.announce(export_snapshot(job))
        started = time.monotonic()
        try:
            done = _write(read, write, job, _Progress(conn, job_id))
        except _Cancelled:
            read.rollback()  # its COPY was cancelled: nothing of it is kept
            return end_cancelled(conn, job_id)
        if done is None:
            return EXPORTS.select(conn, job_id)
        log.info(
            "export %s: %s rows, %.1f MB in %.2fs",
            job_id,
            done.written,
            done.size_bytes / 1e6,
            time.monotonic() - started,
        )
        EXPORTS.announce(export_snapshot(done))
        schedule_removal(job_id)
        return done
