"""Dramatiq actors of the import pipeline. A message carries the job id only."""

from __future__ import annotations

import logging

import psycopg

from product_importer.catalog_statistics import refresh_estimates
from product_importer.imports import deferred_indexes
from product_importer.imports.engine import apply_import
from product_importer.imports.kind import IMPORTS
from product_importer.imports.lifecycle import fail_import
from product_importer.imports.revert import REVERTS, fail_revert, run_revert_job
from product_importer.jobs.actors import job_actor

log = logging.getLogger(__name__)


def _build_set_aside_indexes() -> None:
    """Build the indexes a big import or revert set aside. A failure is only logged: the
    next run's end builds them, and searches read the table meanwhile."""
    try:
        deferred_indexes.rebuild()
    except psycopg.Error:
        log.exception("building the set-aside indexes failed")


# Each run resumes from the job's checkpoint, so a retry or redelivery is always safe.
@job_actor(IMPORTS, time_limit_ms=6 * 3600 * 1000, fail=fail_import)
def run_import(job_id: int) -> None:
    """Apply an import to its end, then refresh the catalog's statistics and build the
    indexes it set aside (its end is announced already: off the user's clock)."""
    try:
        apply_import(job_id)
        refresh_estimates()
    finally:
        _build_set_aside_indexes()


# Each run resumes after the revert's last committed batch, so a retry is always safe.
@job_actor(REVERTS, time_limit_ms=6 * 3600 * 1000, fail=fail_revert)
def run_import_revert(revert_id: int) -> None:
    """Revert an import to its end, then refresh the catalog's statistics and build the
    indexes it set aside, as an import's run does."""
    try:
        run_revert_job(revert_id)
        refresh_estimates()
    finally:
        _build_set_aside_indexes()
