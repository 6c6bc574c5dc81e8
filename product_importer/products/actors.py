"""Dramatiq actors of the products feature. A message carries the job id only."""

from __future__ import annotations

import logging

import dramatiq

from product_importer.broker import retries_exhausted  # (sets the broker first)
from product_importer.imports.engine import TRANSIENT_ERRORS
from product_importer.products.bulk_delete import fail_bulk_delete, run_bulk_delete_job
from product_importer.products.listing import refresh_estimates

log = logging.getLogger(__name__)

# Each run is one transaction from the start, so a retry or redelivery is always safe.
MAX_RETRIES = 5


@dramatiq.actor(
    queue_name="products",
    max_retries=MAX_RETRIES,
    min_backoff=1_000,
    max_backoff=60_000,
    time_limit=3600 * 1000,
)
def run_bulk_delete(job_id: int) -> None:
    try:
        run_bulk_delete_job(job_id)
        refresh_estimates()
    except TRANSIENT_ERRORS as exc:
        if retries_exhausted(MAX_RETRIES):
            fail_bulk_delete(job_id, f"the database kept failing: {exc}; nothing was deleted")
            return
        raise
    except Exception as exc:
        log.exception("bulk delete %s failed", job_id)
        fail_bulk_delete(job_id, f"{type(exc).__name__}: {exc}; nothing was deleted")
