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
import logging
import queue
import re
import tempfile
import time
from collections.abc import AsyncIterator
from typing import IO

import psycopg
import sqlalchemy.exc
from psycopg import sql

from product_importer import db
from product_importer.catalog_guard import CatalogBusy, admit_import
from product_importer.csvfile import (
    STAGING_COLUMNS,
    CsvFormat,
    HeaderProblem,
    LineTally,
    decode_stream,
    detect_format,
    header_complete,
    staged_lines,
)
from product_importer.csvfile.compressed import (
    CompressedFileDamaged,
    InflatedTooLarge,
    Inflater,
    is_gzip,
)
from product_importer.csvfile.containers import (
    ContainerProblem,
    is_zip,
    open_container,
    refuse_old_workbook,
)
from product_importer.csvfile.header import BadMapping, HeaderMismatch
from product_importer.events import EventType, record_event
from product_importer.events.payloads import ImportData
from product_importer.imports.apply_order import take_place
from product_importer.imports.lifecycle import fetch_job
from product_importer.imports.options import ImportOptions
from product_importer.imports.pending_uploads import handle, keep_upload
from product_importer.imports.saved_mappings import mapping_for_headers
from product_importer.imports.tables import create_staging_table, staging_table
from product_importer.imports.upload_pace import PacedUpload, UploadStalled
from product_importer.imports.upload_threads import UploadsBusy, upload_threads
from product_importer.models import ImportJob, SavedMapping
from product_importer.settings import settings

__all__ = [
    "REFUSALS",
    "CompressedFileDamaged",
    "ContainerProblem",
    "InflatedTooLarge",
    "StagingUnavailable",
    "UploadAborted",
    "UploadStalled",
    "UploadTooLarge",
    "UploadsBusy",
    "receive_import",
]

log = logging.getLogger(__name__)

_END = object()
_ABORT = object()
# Chunks waiting for the parser; bounds the memory an upload can take.
_QUEUE_CHUNKS = 16
# Rows sent to COPY in one write.
_COPY_LINES = 2000
# The pool's own failures: no connection to be had, or none free within its timeout.
_POOL_ERRORS = (sqlalchemy.exc.DBAPIError, sqlalchemy.exc.TimeoutError)
# How often the parser thread looks up from an empty queue (it never waits unboundedly).
_QUEUE_POLL_S = 1.0


class UploadTooLarge(ValueError):
    """The upload is bigger than the configured limit."""

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"the file is larger than the {limit_bytes / 2**20:.3g} MB limit")


class UploadAborted(RuntimeError):
    """The upload stopped before its end (client gone or limit reached)."""


class StagingUnavailable(RuntimeError):
    """The database could not be reached, or its connection broke, while staging."""

    def __init__(self, error: Exception, *, connected: bool) -> None:
        cause = (str(error).strip().splitlines() or [type(error).__name__])[0]
        what = (
            "the database connection was lost while the file was received"
            if connected
            else "the database could not be reached to receive the file"
        )
        super().__init__(f"{what} ({cause}); nothing was stored: send the file again")


class _ChunkReader(io.RawIOBase):
    """A blocking byte stream fed, chunk by chunk, from the event loop.

    Its end is sticky: once the end marker came, every later read answers end of file
    at once. (A reader that asks again after the end, as a text decoder does for a last
    line without a line break, would otherwise wait forever on the empty queue.)
    """

    def __init__(self, deadline_s: float) -> None:
        self.chunks: queue.Queue[object] = queue.Queue(maxsize=_QUEUE_CHUNKS)
        self._pending = memoryview(b"")
        self._ended = False
        # Longest wait for the next chunk: the event loop side gives up well before.
        self._deadline_s = deadline_s

    def readable(self) -> bool:
        return True

    def _next_chunk(self) -> object:
        waited = 0.0
        while True:
            try:
                return self.chunks.get(timeout=_QUEUE_POLL_S)
            except queue.Empty:
                waited += _QUEUE_POLL_S
                if waited >= self._deadline_s:
                    raise UploadAborted("no data from the upload in time") from None

    def readinto(self, buffer) -> int:  # type: ignore[override]
        while not self._pending:
            if self._ended:
                return 0
            item = self._next_chunk()
            if item is _END:
                self._ended = True
                return 0
            if item is _ABORT:
                raise UploadAborted("upload aborted")
            self._pending = memoryview(item)  # type: ignore[arg-type]
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def _stage(
    filename: str,
    fmt: CsvFormat,
    reader: _ChunkReader,
    size: list[int],
    options: ImportOptions,
    dry_run: bool,
    saved: SavedMapping | None,
    tally: LineTally,
) -> ImportJob:
    """Create the job and COPY every row into its staging table (runs in a thread, on a
    pooled connection held for the whole upload); `tally` counts the file's lines."""
    connected = False
    try:
        with db.pooled_connection() as conn:
            connected = True
            return _stage_rows(conn, filename, fmt, reader, size, options, dry_run, saved, tally)
    except (psycopg.OperationalError, psycopg.InterfaceError, *_POOL_ERRORS) as exc:
        raise StagingUnavailable(exc, connected=connected) from exc


def _stage_rows(
    conn: psycopg.Connection,
    filename: str,
    fmt: CsvFormat,
    reader: _ChunkReader,
    size: list[int],
    options: ImportOptions,
    dry_run: bool,
    saved: SavedMapping | None,
    tally: LineTally,
) -> ImportJob:
    started = time.monotonic()
    admit_import(conn)  # raises CatalogBusy while all products are being deleted
    job_id = db.scalar(
        conn,
        """INSERT INTO import_jobs
               (filename, encoding, delimiter, extra_columns, header, mode, missing, dry_run,
                saved_mapping_id, saved_mapping_name)
           VALUES (%s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s, %s, %s) RETURNING id""",
        (
            filename,
            fmt.encoding,
            fmt.delimiter,
            json.dumps(list(fmt.extra_columns)),
            json.dumps(list(fmt.original)),
            options.mode.value,
            options.missing.value,
            dry_run,
            saved.id if saved else None,
            saved.name if saved else None,
        ),
    )
    create_staging_table(conn, job_id)
    text = decode_stream(io.BufferedReader(reader, buffer_size=1 << 16), fmt.encoding)
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv, DELIMITER {})").format(
        staging_table(job_id),
        sql.SQL(", ").join(sql.Identifier(c) for c in STAGING_COLUMNS),
        sql.Literal(fmt.delimiter),
    )
    total = 0
    pending: list[str] = []
    with conn.cursor().copy(copy_sql) as copy:
        for line in staged_lines(text, fmt, tally=tally, max_row_chars=settings.max_row_chars):
            pending.append(line)
            if len(pending) == _COPY_LINES:
                copy.write("".join(pending))
                total += len(pending)
                pending.clear()
        copy.write("".join(pending))
        total += len(pending)
    job = fetch_job(
        conn,
        """UPDATE import_jobs SET file_size = %s, total_rows = %s, file_lines = %s,
               blank_lines = %s, timings = jsonb_build_object('upload_s', %s::float),
               column_mapping = %s::jsonb, price_decimal = %s, price_decimal_source = %s
           WHERE id = %s RETURNING *""",
        (
            size[0],
            total,
            tally.lines,
            tally.blank,
            round(time.monotonic() - started, 3),
            json.dumps(fmt.mapping),
            tally.decimal,
            _decimal_source(fmt, tally),
            job_id,
        ),
    )
    assert job is not None
    if not dry_run:
        # The job exists from this commit on: its event commits with it, or neither does.
        # A preview starts (its event, its place in the apply order) when it is applied.
        record_event(conn, EventType.import_started, ImportData.of(job))
        take_place(conn, job_id)
    conn.commit()
    return job


def _decimal_source(fmt: CsvFormat, tally: LineTally) -> str | None:
    """How the prices' decimal separator was decided: chosen, seen in the file, or none
    (no price column: None)."""
    if "price" not in fmt.positions:
        return None
    if fmt.decimal is not None and fmt.decimal_chosen:
        return "chosen"
    return "seen" if tally.decimal is not None else "none"


# Every way `receive_import` refuses an upload; nothing is stored in any of them.
REFUSALS: tuple[type[Exception], ...] = (
    HeaderProblem,
    CompressedFileDamaged,
    ContainerProblem,
    InflatedTooLarge,
    UploadTooLarge,
    UploadStalled,
    UploadsBusy,
    StagingUnavailable,
    CatalogBusy,
)


async def _read_head(source: AsyncIterator[bytes], limit: int) -> tuple[bytes, bool]:
    """The first bytes of the upload, up to the end of the header line; and whether the
    upload ended there."""
    head = b""
    while not header_complete(head):
        try:
            head += await anext(source)
        except StopAsyncIteration:
            return head, True
        if len(head) > limit:
            raise UploadTooLarge(limit)
    return head, False


async def _inflated(source: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    """The upload as it arrives, inflated when it is gzip-compressed (by its first bytes,
    whatever its name); a compressed file is bounded by `limit` once inflated too."""
    first = b""
    async for chunk in source:
        first += chunk
        if len(first) >= 2:
            break
    if not is_gzip(first):
        if first:
            yield first
        async for chunk in source:
            yield chunk
        return
    inflater = Inflater(limit)
    for piece in inflater.feed(first):
        yield piece
    async for chunk in source:
        for piece in inflater.feed(chunk):
            yield piece
    for piece in inflater.finish():
        yield piece


async def _unpacked(
    source: AsyncIterator[bytes], limit: int, sheet: str | None
) -> AsyncIterator[bytes]:
    """The upload as CSV bytes: as it arrives, or, for a zip-based file (.xlsx, .zip, by
    its first bytes), spooled to a temporary file (at most `limit` bytes) and read from
    there (`csvfile/containers.py`). A container's problems raise before its first byte."""
    first = b""
    async for chunk in source:
        first += chunk
        if len(first) >= 4:
            break
    refuse_old_workbook(first)
    if not is_zip(first):
        if sheet:
            raise ContainerProblem(
                f"a sheet ({sheet!r}) was chosen, but the file is not an .xlsx workbook"
            )
        if first:
            yield first
        async for chunk in source:
            yield chunk
        return
    with tempfile.TemporaryFile() as spool:
        size = len(first)
        spool.write(first)
        async for chunk in source:
            size += len(chunk)
            if size > limit:
                raise UploadTooLarge(limit)
            spool.write(chunk)
        spool.seek(0)
        pieces = await asyncio.to_thread(open_container, spool, limit=limit, sheet=sheet)
        while piece := await asyncio.to_thread(next, pieces, b""):
            yield piece


# The longest file name a job keeps (a file system's usual bound).
MAX_FILENAME_CHARS = 255


def kept_filename(filename: str) -> str:
    """The name a job keeps for its file: the last part of any path the client sent
    (`C:\\fakepath\\a.csv`, `../a.csv`), without control characters (PostgreSQL cannot
    store a NUL), at most MAX_FILENAME_CHARS; `upload.csv` when nothing is left."""
    name = re.split(r"[\\/]", filename)[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    return name[:MAX_FILENAME_CHARS] or "upload.csv"


class _Recorder:
    """The chunks of an upload as they pass, also written to a local spool (memory up to
    1 MB, then a temporary file) until `stop`: the file as it was sent, kept when its
    header asks for a mapping (imports/pending_uploads.py)."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._source = chunks
        self.spool: IO[bytes] | None = tempfile.SpooledTemporaryFile(max_size=1 << 20)  # noqa: SIM115  (closed by stop)
        self.size = 0

    def __aiter__(self) -> _Recorder:
        return self

    async def __anext__(self) -> bytes:
        chunk = await anext(self._source)
        if self.spool is not None:
            self.spool.write(chunk)
            self.size += len(chunk)
        return chunk

    async def drain(self, limit: int) -> None:
        """Read the rest of the upload into the spool (at most `limit` bytes in all)."""
        async for _ in self:
            if self.size > limit:
                raise UploadTooLarge(limit)

    def stop(self) -> None:
        if self.spool is not None:
            self.spool.close()
            self.spool = None


def _saved_for(headers: tuple[str, ...]) -> SavedMapping | None:
    try:
        return mapping_for_headers(headers)
    except (psycopg.OperationalError, psycopg.InterfaceError, *_POOL_ERRORS) as exc:
        raise StagingUnavailable(exc, connected=False) from exc


async def _keep(
    recorder: _Recorder,
    owner: str,
    filename: str,
    sheet: str | None,
    mismatch: HeaderMismatch,
    limit: int,
) -> None:
    """Keep the whole upload for a mapping; note its handle on `mismatch`."""
    await recorder.drain(limit)
    assert recorder.spool is not None
    headers = [h.replace("\ufeff", "").strip() for h in mismatch.suggestion.headers]
    async with upload_threads.slot(wait_s=settings.upload_slot_wait_s):
        try:
            kept = await upload_threads.run(
                keep_upload, owner, filename, sheet, headers, recorder.spool
            )
        except (psycopg.OperationalError, psycopg.InterfaceError, *_POOL_ERRORS) as exc:
            raise StagingUnavailable(exc, connected=False) from exc
    mismatch.pending_upload = handle(kept)


async def receive_import(
    filename: str,
    chunks: AsyncIterator[bytes],
    *,
    size_hint: int | None = None,
    max_bytes: int | None = None,
    mapping: dict[str, str | None] | None = None,
    saved_mapping: SavedMapping | None = None,
    decimal: str | None = None,
    options: ImportOptions | None = None,
    dry_run: bool = False,
    sheet: str | None = None,
    keep_for: str | None = None,
    kept_upload_id: str | None = None,
) -> ImportJob:
    """Check the header, stage the rows while they arrive, and answer the pending job.

    Raises HeaderProblem (bad header, empty, binary), UploadTooLarge, UploadStalled (the
    client stopped sending or is too slow), UploadsBusy (every upload thread is taken),
    StagingUnavailable (the database went away), CatalogBusy (all products are being
    deleted), CompressedFileDamaged or InflatedTooLarge (a .gz file, a .zip or .xlsx
    member), ContainerProblem (a .zip or .xlsx that cannot be read, or no such `sheet`:
    the workbook's first sheet is read unless one is named); in each case nothing
    is stored. `mapping` ({field: header}) and `decimal` are the user's choices for the
    header check (`detect_format`); `saved_mapping` the saved mapping `mapping` comes from.
    With no `mapping`, a saved mapping made for the file's header set is used. `options`
    is what the import may do, kept on the job; a `dry_run` job is a preview
    (imports/preview.py). With `keep_for` (the sender's key), a file whose header needs a
    mapping (HeaderMismatch) is kept for that sender: the exception's `pending_upload`
    names it (imports/pending_uploads.py); a preview's file is kept too, to be read again
    with another number style (imports/number_style.py). `kept_upload_id` says the
    upload is that kept file (the job takes it over). The caller enqueues the job (see
    `start_import`).
    """
    limit = settings.max_upload_bytes if max_bytes is None else max_bytes
    if size_hint is not None and size_hint > limit:
        raise UploadTooLarge(limit)
    paced = PacedUpload(
        chunks,
        read_timeout_s=settings.upload_read_timeout_s,
        min_bytes_per_s=settings.upload_min_kb_per_s * 1024,
    )
    recorder = _Recorder(paced) if keep_for is not None else None
    sheet = sheet.strip() if sheet else None
    source = _unpacked(_inflated(recorder or paced, limit), limit, sheet)
    try:
        head, at_eof = await _read_head(source, limit)
        fmt, saved = await _header_format(head, at_eof, mapping, saved_mapping, decimal)
    except HeaderMismatch as mismatch:
        if recorder is not None:
            try:
                await _keep(
                    recorder, keep_for or "", kept_filename(filename), sheet, mismatch, limit
                )
            finally:
                recorder.stop()
        raise
    except BaseException:
        if recorder is not None:
            recorder.stop()
        raise
    # A preview with prices keeps its file, to be read again with another number style.
    if recorder is not None and not (
        dry_run and kept_upload_id is None and "price" in fmt.positions
    ):
        recorder.stop()
        recorder = None
    try:
        job, tally = await _receive_rows(
            kept_filename(filename), fmt, head, at_eof, source, limit, options, dry_run, saved
        )
        # Kept only when another decimal separator would read some price differently.
        if recorder is not None and tally.by_style:
            return await _keep_preview_file(recorder, keep_for or "", job, sheet)
    finally:
        if recorder is not None:
            recorder.stop()
    if kept_upload_id is not None:
        return await asyncio.to_thread(_link_kept, int(job.id or 0), kept_upload_id)
    return job


async def _receive_rows(
    filename: str,
    fmt: CsvFormat,
    head: bytes,
    at_eof: bool,
    source: AsyncIterator[bytes],
    limit: int,
    options: ImportOptions | None,
    dry_run: bool,
    saved: SavedMapping | None,
) -> tuple[ImportJob, LineTally]:
    """Stage the rows on an upload thread while the rest of the bytes arrive; the job, and
    what the reading counted."""
    tally = LineTally()
    async with upload_threads.slot(wait_s=settings.upload_slot_wait_s):
        reader = _ChunkReader(deadline_s=2 * settings.upload_read_timeout_s + 5)
        size = [len(head)]
        reader.chunks.put(head)
        if at_eof:
            reader.chunks.put(_END)
        staging = upload_threads.run(
            _stage,
            filename,
            fmt,
            reader,
            size,
            options or ImportOptions(),
            dry_run,
            saved,
            tally,
        )
        try:
            if not at_eof:
                async for chunk in source:
                    size[0] += len(chunk)
                    if size[0] > limit:
                        raise UploadTooLarge(limit)
                    if not await _put(reader, chunk, staging):
                        return staging.result(), tally  # stopped early: raise its error
                await _put(reader, _END, staging)
        except BaseException:
            await _put(reader, _ABORT, staging)
            with contextlib.suppress(UploadAborted):
                await staging
            raise
        return await staging, tally


def _link_kept(job_id: int, upload_id: str) -> ImportJob:
    """Note on a preview the kept file it was read from (and keep that file as long as
    the preview may wait)."""
    with db.pooled_connection() as conn:
        conn.execute(
            """UPDATE pending_uploads SET expires_at = now() + make_interval(secs => %s),
                   claimed_at = NULL
               WHERE id = %s""",
            (preview_file_ttl_s(), upload_id),
        )
        job = fetch_job(
            conn,
            "UPDATE import_jobs SET kept_upload_id = %s WHERE id = %s RETURNING *",
            (upload_id, job_id),
        )
        conn.commit()
    assert job is not None
    return job


def preview_file_ttl_s() -> float:
    """How long a preview's file is kept: as long as the preview may wait, and a little."""
    return settings.preview_ttl_minutes * 60 + 300


async def _keep_preview_file(
    recorder: _Recorder, owner: str, job: ImportJob, sheet: str | None
) -> ImportJob:
    """Keep a preview's file (already read whole) in PostgreSQL; a failure to keep it only
    means the preview cannot be read again with another number style."""
    assert recorder.spool is not None
    try:
        kept = await asyncio.to_thread(
            keep_upload,
            owner,
            job.filename,
            sheet,
            list(job.header or []),
            recorder.spool,
            ttl_s=preview_file_ttl_s(),
        )
        return await asyncio.to_thread(_link_kept, int(job.id or 0), kept.id)
    except Exception:
        log.exception("could not keep the file of preview %s", job.id)
        return job


async def _header_format(
    head: bytes,
    at_eof: bool,
    mapping: dict[str, str | None] | None,
    saved: SavedMapping | None,
    decimal: str | None,
) -> tuple[CsvFormat, SavedMapping | None]:
    """How to read the file, and the saved mapping its columns come from (given, or the
    one made for its header set when no mapping is given)."""
    if mapping is not None:
        return detect_format(head, at_eof=at_eof, mapping=mapping, decimal=decimal), saved
    fmt: CsvFormat | None = None
    problem: HeaderMismatch | None = None
    try:
        fmt = detect_format(head, at_eof=at_eof, decimal=decimal)
        headers = fmt.original
    except HeaderMismatch as mismatch:
        headers, problem = mismatch.suggestion.headers, mismatch
    found = await asyncio.to_thread(_saved_for, tuple(headers))
    if found is not None:
        try:
            chosen = detect_format(head, at_eof=at_eof, mapping=found.columns, decimal=decimal)
            return chosen, found
        except BadMapping:
            pass  # the saved columns do not fit after all: read the file as if none were saved
    if problem is not None:
        raise problem
    assert fmt is not None
    return fmt, None


async def _put(reader: _ChunkReader, item: object, staging: asyncio.Future) -> bool:
    """Hand `item` to the parser thread; False when the thread has already stopped."""
    while not staging.done():
        try:
            reader.chunks.put_nowait(item)
            return True
        except queue.Full:
            await asyncio.sleep(0.002)
    return False
