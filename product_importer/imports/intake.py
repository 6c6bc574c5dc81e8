"""Receiving an upload: header check first, then rows staged in PostgreSQL as the bytes arrive.

The browser upload and `POST /api/imports` both call `receive_import`, so both get the
same checks and the same speed. Nothing is written until the header is valid, and the
job row, its staged rows and its skipped rows are committed in one transaction once the
last byte is in: a rejected or broken upload leaves no job and no file behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import queue
import time
from collections.abc import AsyncIterator

from psycopg import sql

from product_importer import db
from product_importer.catalog_guard import admit_import
from product_importer.csvfile import (
    CsvFormat,
    decode_stream,
    detect_format,
    header_complete,
    staged_lines,
)
from product_importer.events import EventType, record_event
from product_importer.events.payloads import ImportData
from product_importer.imports.lifecycle import fetch_job
from product_importer.imports.tables import create_staging_table, staging_table
from product_importer.models import ImportJob
from product_importer.settings import settings

_END = object()
_ABORT = object()
# Chunks waiting for the parser; bounds the memory an upload can take.
_QUEUE_CHUNKS = 16
# Rows sent to COPY in one write.
_COPY_LINES = 2000


class UploadTooLarge(ValueError):
    """The upload is bigger than the configured limit."""

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"the file is larger than the {limit_bytes / 2**20:.3g} MB limit")


class UploadAborted(RuntimeError):
    """The upload stopped before its end (client gone or limit reached)."""


class _ChunkReader(io.RawIOBase):
    """A blocking byte stream fed, chunk by chunk, from the event loop."""

    def __init__(self) -> None:
        self.chunks: queue.Queue[object] = queue.Queue(maxsize=_QUEUE_CHUNKS)
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        while not self._pending:
            item = self.chunks.get()
            if item is _END:
                return 0
            if item is _ABORT:
                raise UploadAborted("upload aborted")
            self._pending = memoryview(item)  # type: ignore[arg-type]
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def _stage(filename: str, fmt: CsvFormat, reader: _ChunkReader, size: list[int]) -> ImportJob:
    """Create the job and COPY every row into its staging table (runs in a thread)."""
    started = time.monotonic()
    with db.pooled_connection() as conn:
        admit_import(conn)  # raises CatalogBusy while all products are being deleted
        job_id = db.scalar(
            conn,
            """INSERT INTO import_jobs
                   (filename, encoding, delimiter, extra_columns)
               VALUES (%s, %s, %s, %s::jsonb) RETURNING id""",
            (
                filename,
                fmt.encoding,
                fmt.delimiter,
                json.dumps(list(fmt.extra_columns)),
            ),
        )
        create_staging_table(conn, job_id)
        text = decode_stream(io.BufferedReader(reader, buffer_size=1 << 16), fmt)
        copy_sql = sql.SQL("COPY {} FROM STDIN (FORMAT csv, DELIMITER {})").format(
            staging_table(job_id), sql.Literal(fmt.delimiter)
        )
        total = 0
        pending: list[str] = []
        with conn.cursor().copy(copy_sql) as copy:
            for line in staged_lines(text, fmt):
                pending.append(line)
                if len(pending) == _COPY_LINES:
                    copy.write("".join(pending))
                    total += len(pending)
                    pending.clear()
            copy.write("".join(pending))
            total += len(pending)
        job = fetch_job(
            conn,
            """UPDATE import_jobs SET file_size = %s, total_rows = %s,
                   timings = jsonb_build_object('upload_s', %s::float)
               WHERE id = %s RETURNING *""",
            (size[0], total, round(time.monotonic() - started, 3), job_id),
        )
        assert job is not None
        # The job exists from this commit on: its event commits with it, or neither does.
        record_event(conn, EventType.import_started, ImportData.of(job))
        conn.commit()
    assert job is not None
    return job


async def receive_import(
    filename: str,
    chunks: AsyncIterator[bytes],
    *,
    size_hint: int | None = None,
    max_bytes: int | None = None,
) -> ImportJob:
    """Check the header, stage the rows while they arrive, and answer the pending job.

    Raises HeaderProblem (bad header, empty, binary), UploadTooLarge, or CatalogBusy (all
    products are being deleted); in each case nothing is stored. The caller enqueues the
    job (see `start_import`).
    """
    limit = settings.max_upload_bytes if max_bytes is None else max_bytes
    if size_hint is not None and size_hint > limit:
        raise UploadTooLarge(limit)
    head = b""
    at_eof = False
    source = aiter(chunks)
    while not header_complete(head):
        try:
            head += await anext(source)
        except StopAsyncIteration:
            at_eof = True
            break
        if len(head) > limit:
            raise UploadTooLarge(limit)
    fmt = detect_format(head, at_eof=at_eof)

    reader = _ChunkReader()
    size = [len(head)]
    reader.chunks.put(head)
    staging = asyncio.ensure_future(
        asyncio.to_thread(_stage, filename.strip() or "upload.csv", fmt, reader, size)
    )
    try:
        async for chunk in source:
            size[0] += len(chunk)
            if size[0] > limit:
                raise UploadTooLarge(limit)
            while True:
                if staging.done():
                    return staging.result()  # the parser stopped early: raise its error
                try:
                    reader.chunks.put_nowait(chunk)
                    break
                except queue.Full:
                    await asyncio.sleep(0.002)
        await _put(reader, _END, staging)
    except BaseException:
        await _put(reader, _ABORT, staging)
        with contextlib.suppress(UploadAborted):
            await staging
        raise
    return await staging


async def _put(reader: _ChunkReader, item: object, staging: asyncio.Future) -> None:
    while not staging.done():
        try:
            reader.chunks.put_nowait(item)
            return
        except queue.Full:
            await asyncio.sleep(0.002)
