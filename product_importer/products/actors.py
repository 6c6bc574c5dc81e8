"""Dramatiq actors of the products feature. A message carries the job id only."""

from __future__ import annotations

from product_importer.catalog_statistics import refresh_estimates
from product_importer.jobs.actors import job_actor
from product_importer.products.bulk_delete import BULK_DELETE, fail_bulk_delete, run_bulk_delete_job
from product_importer.products.export_jobs import EXPORTS, fail_export
from product_importer.products.export_writer import run_export_job


# Each run is one transaction from the start, so a retry or redelivery is always safe.
@job_actor(BULK_DELETE, time_limit_ms=3600 * 1000, fail=fail_bulk_delete)
def run_bulk_delete(job_id: int) -> None:
    """Delete every product, then refresh the catalog's statistics (the planner's
    estimates, and the list's "about" totals, know the table is empty at once)."""
    run_bulk_delete_job(job_id)
    refresh_estimates()


# A run writes the whole file in one transaction, so a retry or redelivery starts it again.
@job_actor(EXPORTS, time_limit_ms=3600 * 1000, fail=fail_export)
def run_export(job_id: int) -> None:
    """Write an export's CSV file; for one that has ended, remove it when it expires."""
    run_export_job(job_id)
