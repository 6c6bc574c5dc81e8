"""A preview's number style: how its prices were read (a decimal comma or point; chosen,
seen in the file's first rows, or shown nowhere) and how many rows were refused because
their price reads two ways ("1,299"). Before Apply, the preview can be read again with
another decimal separator from the file it kept (imports/pending_uploads.py): a new
preview replaces it, no second upload."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, Field

from product_importer import db
from product_importer.csvfile.header import BadMapping
from product_importer.csvfile.mapping import FIELDS
from product_importer.field_rules import AMBIGUOUS_PRICE_WORDS, DECIMAL_SEPARATORS
from product_importer.imports import jobs, pending_uploads, preview
from product_importer.imports.options import ImportMode, ImportOptions, MissingChoice
from product_importer.models import ImportJob, JobStage

STYLE_WORDS = {
    ".": "decimal point (1,299.00)",
    ",": "decimal comma (1.299,00)",
}


class PriceStyle(BaseModel):
    """How a job's prices were read, and whether another style can still be chosen."""

    decimal: str | None = Field(description='"." or ","; null when the file showed neither')
    source: str | None = Field(
        description="chosen, seen (in the file's first rows) or none; null: no price column"
    )
    ambiguous_rows: int = Field(
        description="rows refused because their price reads two ways (like 1,299)"
    )
    can_change: bool = Field(
        description="a preview waiting for Apply whose file is kept: POST .../reread"
    )
    words: str


def price_style(job: ImportJob) -> PriceStyle:
    """The job's number style, in fields and in words."""
    with db.pooled_connection() as conn:
        ambiguous = int(
            db.scalar(
                conn,
                """SELECT count(*) FROM import_row_errors
                   WHERE job_id = %s AND strpos(reason, %s) > 0""",
                (job.id, AMBIGUOUS_PRICE_WORDS),
            )
        )
    waiting = job.stage == JobStage.previewed and job.apply_order is None
    decimal, source = job.price_decimal, job.price_decimal_source
    if source is None:
        words = "no price column"
    elif decimal is None:
        words = "the prices show no decimal separator"
    else:
        how = "chosen" if source == "chosen" else "seen in the file"
        words = f"prices read with a {STYLE_WORDS[decimal]}, {how}"
    if ambiguous:
        what = (
            "1 price reads two ways (like 1,299) and was"
            if ambiguous == 1
            else f"{ambiguous:,} prices read two ways (like 1,299) and were"
        )
        words += f"; {what} not imported: choose the decimal separator"
    return PriceStyle(
        decimal=decimal,
        source=source,
        ambiguous_rows=ambiguous,
        can_change=waiting and source is not None and job.kept_upload_id is not None,
        words=words,
    )


def _exact(columns: dict[str, str]) -> dict[str, str | None]:
    """The columns as read the first time, every other field left out on purpose."""
    return {f: columns.get(f) for f in FIELDS}


async def reread_preview(job_id: int, decimal: str) -> ImportJob:
    """Read a waiting preview's kept file again with `decimal` as the prices' decimal
    separator: a new preview (same columns and options) replaces it. Raises BadMapping
    (no such separator), JobNotFound, PreviewConflict (not a preview waiting for Apply,
    or its file is not kept), and what an upload raises."""
    if decimal not in DECIMAL_SEPARATORS:
        raise BadMapping(f"the decimal separator must be '.' or ',' (not {decimal!r})")
    job, upload_id = await asyncio.to_thread(preview.detach_kept_file, job_id)
    try:
        owner = await asyncio.to_thread(pending_uploads.owner_of, upload_id)
        kept = await asyncio.to_thread(pending_uploads.claim_upload, upload_id, owner)
        options = ImportOptions(ImportMode(job.mode), MissingChoice(job.missing))
        replacement = await jobs.start_import(
            job.filename,
            pending_uploads.upload_bytes(upload_id),
            mapping=None if job.saved_mapping_id else _exact(job.column_mapping or {}),
            mapping_id=job.saved_mapping_id,
            decimal=decimal,
            options=options,
            dry_run=True,
            sheet=kept.sheet,
            kept_upload_id=upload_id,
        )
    except BaseException:
        await asyncio.to_thread(preview.attach_kept_file, job_id, upload_id)
        await asyncio.to_thread(pending_uploads.release_upload, upload_id)
        raise
    await asyncio.to_thread(preview.discard_preview, job_id)
    return replacement
