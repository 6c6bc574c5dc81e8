"""Preview, then apply: what an import would do, before anything is written.

A preview is an import job created with `dry_run`. Its worker runs the engine's dedupe
step alone, keeping the staged rows, then the job rests as status `pending` (not ended,
nothing written) and stage `previewed`, with its counts in `preview_counts`. Then:
- Apply takes the job's place in the apply order at that moment (a preview never holds
  back the imports uploaded after it while it waits for a person), records
  `import.started` and queues it: the worker deduplicates the kept rows again, against
  the catalog as it is then, and applies them like any import.
- Discard, or `PREVIEW_TTL_MINUTES` without Apply (a delayed message of the job's own
  actor, sent when the preview rests; every import's run also sweeps overdue ones), ends
  it as status `cancelled`, stage `discarded`, and drops its working tables. A preview
  that was never applied records no event: it changed nothing.
"""

from __future__ import annotations

import json
from decimal import Decimal

import psycopg
from psycopg import sql
from pydantic import BaseModel

from product_importer import db
from product_importer.catalog_guard import admit_import
from product_importer.events import EventType, record_event
from product_importer.events.payloads import ImportData
from product_importer.imports.apply_order import take_place
from product_importer.imports.kind import IMPORTS
from product_importer.imports.lifecycle import announce, fail_import, fetch_job
from product_importer.imports.options import ImportMode, MissingChoice
from product_importer.imports.tables import dedup_table, drop_job_tables, missing_from_file
from product_importer.jobs.store import JobNotFound
from product_importer.models import ImportJob, JobStage, JobStatus
from product_importer.settings import settings

# Changed products shown in a preview, before -> after.
SAMPLE_SIZE = 20
# Bad rows shown in a preview (all of them are in the error report).
BAD_ROWS_SHOWN = 20

_COUNT = """SELECT count(*) FILTER (WHERE NOT known),
                   count(*) FILTER (WHERE known AND NOT same) FROM {dedup}"""
_MISSING_COUNT = "SELECT count(*) FROM products p WHERE {active} {missing}"
# The sample of changes: one query, the dedup table joined to the catalog as it is now.
_SAMPLE = """
SELECT d.sku, p.sku, p.name, p.description, p.price, p.active,
       d.name, d.description, d.price, d.active
FROM {dedup} d JOIN products p ON lower(p.sku) = d.key
WHERE d.known AND NOT d.same
  AND (p.sku, p.name, p.description, p.price, p.active)
      IS DISTINCT FROM (d.sku, d.name, d.description, d.price, d.active)
ORDER BY d.seq LIMIT %s
"""
_FIELDS = ("sku", "name", "description", "price", "active")


class PreviewConflict(RuntimeError):
    """The job's state forbids this now (not a preview, not ready, applied, ended)."""


def preview_counts(job: ImportJob, new: int, changed: int, missing: int) -> dict[str, int]:
    """What the import would do, as its mode says: `new`/`changed` are the file's SKUs
    unknown to the catalog / known and different; `missing` the catalog products the
    "missing from the file" choice would deactivate or delete."""
    distinct, mode = job.distinct_rows, ImportMode(job.mode)
    counts = {
        "new": new,
        "changed": changed,
        "unchanged": distinct - new - changed,
        "repeated": max(0, job.total_rows - job.skipped - distinct),
        "bad": job.skipped,
        "skipped_existing": 0,
        "skipped_unknown": 0,
        "missing": missing,
    }
    if mode == ImportMode.create_only:
        counts |= {"changed": 0, "unchanged": 0, "skipped_existing": distinct - new}
    elif mode == ImportMode.update_only:
        counts |= {"new": 0, "skipped_unknown": new}
    return counts


def rest_as_preview(conn: psycopg.Connection, job: ImportJob) -> ImportJob:
    """After the dedupe step of a preview: count what it would do and let it wait for a
    person (or discard it, if that was asked for meanwhile)."""
    job_id = int(job.id or 0)
    dedup = dedup_table(job_id)
    row = conn.execute(sql.SQL(_COUNT).format(dedup=dedup)).fetchone()
    assert row is not None
    missing = 0
    choice = MissingChoice(job.missing)
    if choice != MissingChoice.leave:
        active = sql.SQL("p.active AND" if choice == MissingChoice.deactivate else "")
        missing = int(
            db.scalar(
                conn,
                sql.SQL(_MISSING_COUNT).format(active=active, missing=missing_from_file(dedup)),
            )
        )
    counts = preview_counts(job, int(row[0]), int(row[1]), missing)
    rested = fetch_job(
        conn,
        """UPDATE import_jobs SET status = 'pending', stage = %s, preview_counts = %s::jsonb,
               preview_until = clock_timestamp() + make_interval(secs => %s)
           WHERE id = %s AND status = 'processing' AND NOT cancel_requested RETURNING *""",
        (JobStage.previewed.value, json.dumps(counts), settings.preview_ttl_minutes * 60, job_id),
    )
    if rested is not None:
        return rested
    ended = _discard(conn, job_id, None)
    return ended or _select(conn, job_id)


def _select(conn: psycopg.Connection, job_id: int) -> ImportJob:
    job = IMPORTS.select(conn, job_id)
    if job is None:
        raise JobNotFound(IMPORTS.label, job_id)
    return job


def _discard(conn: psycopg.Connection, job_id: int, reason: str | None) -> ImportJob | None:
    """End a preview not applied: cancelled, stage discarded, working tables dropped."""
    with conn.transaction():
        drop_job_tables(conn, job_id)
        drop_kept_file(conn, job_id)
        return fetch_job(
            conn,
            """UPDATE import_jobs SET status = 'cancelled', stage = %s, error = %s,
                   preview_until = NULL, finished_at = clock_timestamp(),
                   timings = timings || jsonb_build_object('total_s',
                       round(extract(epoch FROM clock_timestamp() - created_at)::numeric, 3))
               WHERE id = %s AND dry_run AND apply_order IS NULL
                 AND status IN ('pending', 'processing') RETURNING *""",
            (JobStage.discarded.value, reason, job_id),
        )


def drop_kept_file(conn: psycopg.Connection, job_id: int) -> None:
    """Drop the file a preview kept to be read again (it is applied or discarded)."""
    conn.execute(
        """DELETE FROM pending_uploads
           WHERE id = (SELECT kept_upload_id FROM import_jobs WHERE id = %s)""",
        (job_id,),
    )


def _locked(conn: psycopg.Connection, job_id: int) -> ImportJob:
    job = IMPORTS.fetch(conn, "SELECT * FROM import_jobs WHERE id = %s FOR UPDATE", (job_id,))
    if job is None:
        raise JobNotFound(IMPORTS.label, job_id)
    return job


def _refuse_unless_waiting(job: ImportJob, doing: str) -> None:
    """Raise PreviewConflict unless the job is a preview that has not been applied nor ended."""
    if not job.dry_run:
        raise PreviewConflict(
            f"import {job.id} is not a preview: it applies on its own (cancel stops it)"
        )
    if job.stage == JobStage.discarded:
        raise PreviewConflict(
            f"the preview of import {job.id} was discarded"
            + (f" ({job.error})" if job.error else "")
            + f": there is nothing to {doing}; upload the file again"
        )
    if JobStatus(job.status).is_terminal:
        raise PreviewConflict(f"import {job.id} is already {job.status}")
    if job.apply_order is not None:
        raise PreviewConflict(f"import {job.id} is being applied already (cancel stops it)")


def detach_kept_file(job_id: int) -> tuple[ImportJob, str]:
    """Take a waiting preview's kept file off it (to read it again), answering the job
    and the file's id. Raises JobNotFound, PreviewConflict."""
    with db.pooled_connection() as conn:
        job = _locked(conn, job_id)
        _refuse_unless_waiting(job, "read again")
        if job.stage != JobStage.previewed:
            raise PreviewConflict(
                f"the preview of import {job_id} is not ready yet: its file is being checked"
            )
        if job.kept_upload_id is None:
            raise PreviewConflict(
                f"the file of import {job_id} was not kept: upload it again with the "
                "decimal separator chosen"
            )
        conn.execute("UPDATE import_jobs SET kept_upload_id = NULL WHERE id = %s", (job_id,))
        conn.commit()
    return job, job.kept_upload_id


def attach_kept_file(job_id: int, upload_id: str) -> None:
    """Give a preview its kept file back (reading it again was refused)."""
    with db.pooled_connection() as conn:
        conn.execute(
            "UPDATE import_jobs SET kept_upload_id = %s WHERE id = %s", (upload_id, job_id)
        )
        conn.commit()


def ttl_words() -> str:
    seconds = settings.preview_ttl_minutes * 60
    if seconds % 60:
        return f"{seconds:g} seconds"
    return f"{seconds / 60:g} minutes"


def expired_reason() -> str:
    return f"not applied within {ttl_words()}: discarded"


def apply_preview(job_id: int) -> ImportJob:
    """Apply a preview (no second upload): it takes its place in the apply order now and
    goes to a worker. Raises JobNotFound, PreviewConflict, CatalogBusy."""
    with db.pooled_connection() as conn:
        job = _locked(conn, job_id)
        _refuse_unless_waiting(job, "apply")
        if job.stage != JobStage.previewed:
            conn.rollback()
            raise PreviewConflict(
                f"the preview of import {job_id} is not ready yet: its file is being checked"
            )
        overdue = db.scalar(conn, "SELECT %s <= clock_timestamp()", (job.preview_until,))
        if overdue:
            ended = _discard(conn, job_id, expired_reason())
            conn.commit()
            if ended is not None:
                announce(ended)
            raise PreviewConflict(
                f"the preview of import {job_id} was {expired_reason()}; upload the file again"
            )
        admit_import(conn)  # raises CatalogBusy while all products are being deleted
        applied = fetch_job(
            conn,
            """UPDATE import_jobs SET status = 'pending', stage = %s, preview_until = NULL
               WHERE id = %s RETURNING *""",
            (JobStage.queued.value, job_id),
        )
        assert applied is not None
        record_event(conn, EventType.import_started, ImportData.of(applied))
        take_place(conn, job_id)
        drop_kept_file(conn, job_id)
        conn.commit()
    announce(applied)
    try:
        IMPORTS.enqueue(job_id)
    except Exception as exc:  # the broker is down: the job must not wait forever
        return fail_import(job_id, f"could not queue the import: {exc}") or applied
    return applied


def discard_preview(job_id: int) -> ImportJob:
    """Discard a preview: nothing is written, its staged rows are dropped. While its file
    is still being deduplicated, the worker discards it when that step ends. Raises
    JobNotFound, PreviewConflict."""
    with db.pooled_connection() as conn:
        job = _locked(conn, job_id)
        _refuse_unless_waiting(job, "discard")
        if job.status == JobStatus.processing:
            conn.execute("UPDATE import_jobs SET cancel_requested = true WHERE id = %s", (job_id,))
            conn.commit()
            return _select(conn, job_id)
        ended = _discard(conn, job_id, None)
        conn.commit()
    assert ended is not None
    announce(ended)
    return ended


def schedule_expiry(job_id: int, delay_ms: int) -> None:
    """The job's own message, `delay_ms` from now: the worker ends the preview then if it
    still waits."""
    IMPORTS.enqueue(job_id, delay_ms=max(1, delay_ms))


def expiry_due(conn: psycopg.Connection, job_id: int) -> int:
    """For a previewed job's message: discard it if its time is up (answer 0), else answer
    the milliseconds left."""
    left = db.scalar(
        conn,
        """SELECT ceil(1000 * extract(epoch FROM preview_until - clock_timestamp()))::bigint
           FROM import_jobs WHERE id = %s AND stage = %s""",
        (job_id, JobStage.previewed.value),
    )
    if left is not None and left > 0:
        return int(left)
    if left is not None:
        ended = _discard(conn, job_id, expired_reason())
        if ended is not None:
            announce(ended)
    return 0


def expire_due_previews(conn: psycopg.Connection) -> int:
    """Discard every preview whose time is up; answer how many."""
    due = conn.execute(
        """SELECT id FROM import_jobs WHERE stage = %s AND preview_until <= clock_timestamp()
           ORDER BY id""",
        (JobStage.previewed.value,),
    ).fetchall()
    ended = 0
    for (job_id,) in due:
        job = _discard(conn, int(job_id), expired_reason())
        if job is not None:
            announce(job)
            ended += 1
    return ended


class ProductValues(BaseModel):
    sku: str
    name: str
    description: str
    price: Decimal | None
    active: bool


class Change(BaseModel):
    """One changed product: as the catalog has it now, and as the file would make it."""

    sku: str
    before: ProductValues
    after: ProductValues
    fields: list[str]


class BadRow(BaseModel):
    line: int
    sku: str | None
    reason: str


class PreviewReport(BaseModel):
    """What a previewed import would do: its counts, a sample of the changes and its first
    bad rows (all of them in the error report)."""

    counts: dict[str, int]
    changes: list[Change]
    bad_rows: list[BadRow]


def preview_report(job_id: int) -> PreviewReport:
    """The preview of a job (empty while it is not previewed). Raises JobNotFound."""
    with db.pooled_connection() as conn:
        job = _select(conn, job_id)
        changes: list[Change] = []
        waiting = job.stage == JobStage.previewed
        if waiting and ImportMode(job.mode) != ImportMode.create_only:
            rows = conn.execute(
                sql.SQL(_SAMPLE).format(dedup=dedup_table(job_id)), (SAMPLE_SIZE,)
            ).fetchall()
            for row in rows:
                before = ProductValues(**dict(zip(_FIELDS, row[1:6], strict=True)))
                after = ProductValues(**dict(zip(_FIELDS, (row[0], *row[6:10]), strict=True)))
                fields = [f for f in _FIELDS if getattr(before, f) != getattr(after, f)]
                changes.append(Change(sku=row[0], before=before, after=after, fields=fields))
        bad = conn.execute(
            """SELECT line, sku, reason FROM import_row_errors WHERE job_id = %s
               ORDER BY line LIMIT %s""",
            (job_id, BAD_ROWS_SHOWN),
        ).fetchall()
    return PreviewReport(
        counts=job.preview_counts or {},
        changes=changes,
        bad_rows=[BadRow(line=line, sku=sku, reason=reason) for line, sku, reason in bad],
    )
