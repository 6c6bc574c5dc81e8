"""Import jobs as the UI and the API see them: start, list, read, cancel, error report."""

from __future__ import annotations

import asyncio
import csv
import io
import math
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select

from product_importer import db
from product_importer.csvfile.formula_cells import neutralise, restore
from product_importer.csvfile.header import HeaderMismatch
from product_importer.imports import pending_uploads, saved_mappings
from product_importer.imports.intake import receive_import
from product_importer.imports.kind import IMPORTS, ImportSnapshot
from product_importer.imports.lifecycle import announce, fail_import
from product_importer.imports.options import ImportOptions
from product_importer.imports.tables import drop_job_tables
from product_importer.jobs.store import JobNotFound
from product_importer.models import ImportJob, ImportRowError, JobStage, JobStatus


class JobAlreadyFinished(ValueError):
    def __init__(self, job: ImportJob) -> None:
        super().__init__(f"import {job.id} is already {job.status}")


async def start_import(
    filename: str,
    chunks: AsyncIterator[bytes],
    *,
    size_hint: int | None = None,
    mapping: dict[str, str | None] | None = None,
    mapping_id: int | None = None,
    decimal: str | None = None,
    options: ImportOptions | None = None,
    dry_run: bool = False,
    sheet: str | None = None,
    keep_for: str | None = None,
    kept_upload_id: str | None = None,
) -> ImportJob:
    """Receive an upload and queue its job for a worker (a `dry_run` job is previewed,
    then waits for Apply: see imports/preview.py). `mapping_id` reads the file with a
    saved mapping (SavedMappingNotFound when there is none). See `receive_import` for
    errors and for `keep_for`."""
    saved = None
    if mapping_id is not None:
        saved = await asyncio.to_thread(saved_mappings.get_mapping, mapping_id)
        mapping = saved.columns
    job = await receive_import(
        filename,
        chunks,
        size_hint=size_hint,
        mapping=mapping,
        saved_mapping=saved,
        decimal=decimal,
        options=options,
        dry_run=dry_run,
        sheet=sheet,
        keep_for=keep_for,
        kept_upload_id=kept_upload_id,
    )
    return _queued(job)


def _queued(job: ImportJob) -> ImportJob:
    announce(job)  # before the worker can publish newer news
    try:
        IMPORTS.enqueue(int(job.id or 0))
    except Exception as exc:  # the broker is down: the job must not wait forever
        return fail_import(int(job.id or 0), f"could not queue the import: {exc}") or job
    return job


async def start_pending_import(
    upload_id: str,
    owner: str,
    *,
    mapping: dict[str, str | None] | None = None,
    mapping_id: int | None = None,
    save_as: str | None = None,
    decimal: str | None = None,
    options: ImportOptions | None = None,
    dry_run: bool = False,
) -> ImportJob:
    """Start the import of an upload kept while its columns were chosen (no second
    upload): with `mapping` or the saved mapping `mapping_id`, saving `mapping` first as
    `save_as` when that is given. The kept upload is dropped once its job exists; when
    it is refused (a mapping that does not fit, ...) it stays for another try. Raises
    PendingUploadNotFound, PendingUploadBusy, SavedMappingNotFound, SavedMappingInvalid,
    MappingNameTaken, and what `receive_import` raises."""
    kept = await asyncio.to_thread(pending_uploads.claim_upload, upload_id, owner)
    try:
        if save_as is not None and mapping_id is None:
            saved = await asyncio.to_thread(
                saved_mappings.create_mapping,
                save_as,
                kept.headers,
                mapping or {},
                created_by=owner,
            )
            mapping_id, mapping = saved.id, None
        job = await start_import(
            kept.filename,
            pending_uploads.upload_bytes(upload_id),
            mapping=mapping if mapping_id is None else None,
            mapping_id=mapping_id,
            decimal=decimal,
            options=options,
            dry_run=dry_run,
            sheet=kept.sheet,
            # A preview takes the kept file over: it may be read again with another
            # number style before Apply (imports/number_style.py).
            kept_upload_id=upload_id if dry_run else None,
        )
    except BaseException as exc:
        await asyncio.to_thread(pending_uploads.release_upload, upload_id)
        if isinstance(exc, HeaderMismatch):  # still unclear: the same kept file waits
            exc.pending_upload = pending_uploads.handle(kept)
        raise
    if not dry_run:
        await asyncio.to_thread(pending_uploads.forget_upload, upload_id)
    return job


def get_job(job_id: int) -> ImportJob:
    """The job's row; raises JobNotFound."""
    return IMPORTS.get(job_id)


@dataclass(frozen=True)
class JobPage:
    """One page of the import history, newest first."""

    items: list[ImportJob]
    total: int
    page: int
    page_size: int

    @property
    def page_count(self) -> int:
        """Pages in all; an empty history still has its one (empty) page."""
        return max(1, math.ceil(self.total / self.page_size))


def list_jobs(*, page: int = 1, page_size: int = 20) -> JobPage:
    """One page of jobs, newest first (ties by id), and how many there are in all.

    A page past the end is empty, not an error: the history may shrink between two reads.
    """
    if page < 1 or page_size < 1:
        raise ValueError("page and page_size start at 1")
    with db.session() as s:
        total = s.exec(select(func.count()).select_from(ImportJob)).one()
        jobs = s.exec(
            select(ImportJob)
            .order_by(col(ImportJob.created_at).desc(), col(ImportJob.id).desc())
            .offset((page - 1) * page_size)
            .limit(page_size)
        ).all()
    return JobPage(items=list(jobs), total=int(total), page=page, page_size=page_size)


def running_jobs(*, limit: int = 50) -> list[ImportJob]:
    """Jobs not finished yet (pending or processing), newest first."""
    with db.pooled_connection() as conn:
        return IMPORTS.active(conn, limit=limit)


def cancel_job(job_id: int) -> ImportJob:
    """Ask a running job to stop at its next batch; a queued job stops at once."""
    with db.pooled_connection() as conn:
        row = conn.execute(
            "SELECT status FROM import_jobs WHERE id = %s FOR UPDATE", (job_id,)
        ).fetchone()
        if row is None:
            raise JobNotFound(IMPORTS.label, job_id)
        status = JobStatus(row[0])
        if status.is_terminal:
            conn.rollback()
            raise JobAlreadyFinished(get_job(job_id))
        if status == JobStatus.pending:
            conn.execute(
                """UPDATE import_jobs SET status = 'cancelled', stage = %s, cancel_requested = true,
                       finished_at = clock_timestamp() WHERE id = %s""",
                (JobStage.done.value, job_id),
            )
            drop_job_tables(conn, job_id)
        else:
            conn.execute("UPDATE import_jobs SET cancel_requested = true WHERE id = %s", (job_id,))
        conn.commit()
    job = get_job(job_id)
    announce(job)
    return job


def snapshot(job_id: int) -> ImportSnapshot:
    """The job's progress as the database tells it (whether it waits for a worker too)."""
    return IMPORTS.snapshot(job_id)


def error_report(job_id: int) -> Iterator[str]:
    """The job's skipped rows as CSV text a person can fix and import again, streamed in
    pieces: the file's own columns (its header, in its order) with each row's values as
    the file had them, then an `error` column with the row's line and every problem it
    has. Cells a spreadsheet would run as formulas are neutralised (and read back as they
    were on the next import). A job from before rows kept their values lists line, sku
    and reason."""
    job = get_job(job_id)
    header = list(job.header) if job.header else None
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if header is None:
        writer.writerow(("line", "sku", "reason"))
    else:
        taken = {h.strip().lower() for h in header}
        error_column = "error" if "error" not in taken else "import error"
        writer.writerow([neutralise(h) for h in header] + [error_column])
    with db.session() as s:
        rows = s.exec(
            select(
                ImportRowError.line, ImportRowError.sku, ImportRowError.reason, ImportRowError.cells
            )
            .where(ImportRowError.job_id == job_id)
            .order_by(col(ImportRowError.line))
            .execution_options(yield_per=5000)
        )
        for line, sku, reason, cells in rows:
            if header is None:
                writer.writerow((line, neutralise(sku or ""), neutralise(reason)))
            else:
                writer.writerow(_report_row(len(header), line, reason, cells or []))
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()


def _report_row(width: int, line: int, reason: str, cells: Sequence[str]) -> list[str]:
    """One skipped row in the report: its values in the file's columns (a short row
    padded; values past the last column named in the error), then the error."""
    values = [neutralise(restore(c)) for c in cells[:width]]
    values += [""] * (width - len(values))
    error = f"Line {line}: {reason}"
    if any(c.strip() for c in cells[width:]):
        error += f" Values past the last column: {' | '.join(cells[width:])}"
    return [*values, neutralise(error)]
