"""Dramatiq actors of the import pipeline. A message carries the job id only."""

from __future__ import annotations

import logging

import dramatiq

from product_importer.broker import retries_exhausted  # (sets the broker first)
from product_importer.imports.engine import TRANSIENT_ERRORS, apply_import
from product_importer.imports.lifecycle import fail_import
from product_importer.products.listing import refresh_estimates

log = logging.getLogger(__name__)

# Each run resumes from the job's checkpoint, so a retry or redelivery is always safe.
MAX_RETRIES = 10


@dramatiq.actor(
    queue_name="imports",
    max_retries=MAX_RETRIES,
    min_backoff=1_000,
    max_backoff=300_000,
    time_limit=6 * 3600 * 1000,
)
def run_import(job_id: int) -> None:
    try:
        apply_import(job_id)
        refresh_estimates()
    except TRANSIENT_ERRORS as exc:
        if retries_exhausted(MAX_RETRIES):
            fail_import(job_id, f"the database kept failing: {exc}")
            return
        raise
    except Exception as exc:
        log.exception("import %s failed", job_id)
        fail_import(job_id, f"{type(exc).__name__}: {exc}")
