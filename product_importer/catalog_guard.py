"""Imports and delete-all never overlap: one waits for nothing, the other is refused clearly.

Both sides decide inside the transaction that creates their job, under one PostgreSQL
advisory lock: an upload holds it SHARED from its check until its job row commits (so
several uploads run at once), a delete-all request tries it EXCLUSIVE without waiting.
Whoever comes second sees the other's committed job row and is refused with a message
naming it; nobody waits on anybody, so there is no deadlock, and since a delete-all only
ever starts when no import is pending or running (and no import can start while it
runs), no catalog is left half imported and half deleted.
"""

from __future__ import annotations

import psycopg

from product_importer import advisory_locks
from product_importer.db import scalar
from product_importer.jobs.claims import is_claimed

# Advisory lock key (class, object) of the catalog's writers.
CATALOG_LOCK = (advisory_locks.CATALOG_WRITERS, 1)

_ACTIVE = "('pending', 'processing')"


class CatalogBusy(RuntimeError):
    """A change to the whole catalog cannot start now; the message says why and what to do."""


def admit_import(conn: psycopg.Connection) -> None:
    """In an upload's open transaction: refuse it while a delete-all waits or runs.

    The shared lock is held until that transaction ends, so a delete-all asked for
    meanwhile sees the upload and is refused rather than racing it."""
    conn.execute("SELECT pg_advisory_xact_lock_shared(%s, %s)", CATALOG_LOCK)
    row = conn.execute(
        f"SELECT id FROM bulk_delete_jobs WHERE status IN {_ACTIVE} ORDER BY id LIMIT 1"
    ).fetchone()
    if row is not None:
        raise CatalogBusy(
            f"all products are being deleted (bulk delete #{row[0]}): "
            "start the import again when it has finished"
        )


def admit_bulk_delete(conn: psycopg.Connection) -> None:
    """In a delete-all request's open transaction: refuse it while an import is being
    uploaded, waits or runs. Never waits for a lock."""
    locked = scalar(conn, "SELECT pg_try_advisory_xact_lock(%s, %s)", CATALOG_LOCK)
    if not locked:
        raise CatalogBusy(
            "a CSV file is being uploaded for import: delete all products when it has finished"
        )
    row = conn.execute(
        # A preview waiting for Apply holds nothing: Apply is refused while a delete-all
        # runs (admit_import), and deduplicates against the catalog of then.
        f"""SELECT id, filename, status FROM import_jobs WHERE status IN {_ACTIVE}
              AND stage <> 'previewed' ORDER BY id LIMIT 1"""
    ).fetchone()
    if row is not None:
        job_id, filename, status = row
        if status == "processing" and not is_claimed(conn, advisory_locks.IMPORT_JOB, job_id):
            # Its worker stopped: a worker takes it up within the heartbeat timeout.
            status = f"{status}, waiting for a worker to take it up again"
        raise CatalogBusy(
            f"import #{job_id} ({filename}) is {status}: wait for it to finish or cancel it, "
            "then delete all products"
        )
