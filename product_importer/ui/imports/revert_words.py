"""What an import's history line says of its revert: whether it can be reverted, and how
its revert goes or went, in words ready to draw. No state here (state.py keeps them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import reflex as rx

from product_importer.imports.revert import RevertSnapshot
from product_importer.models import ImportJob, ImportRevert, JobStatus
from product_importer.settings import settings


def can_revert(job: ImportJob, revert: ImportRevert | None) -> bool:
    """Whether the history offers the Revert button (the API says why when it refuses)."""
    ended = JobStatus(job.status).is_terminal and job.finished_at is not None
    if not ended or not job.revertible or job.reverted_at is not None:
        return False
    if job.dry_run and job.apply_order is None:
        return False  # a preview never applied
    assert job.finished_at is not None
    if job.finished_at < datetime.now(UTC) - timedelta(days=settings.revert_days):
        return False
    return revert is None or revert.status in (JobStatus.cancelled, JobStatus.failed)


def revert_words(snapshot: RevertSnapshot | None) -> str:
    """ "reverting 40%", "reverted", "revert cancelled", "revert failed"; "" without one."""
    if snapshot is None:
        return ""
    if snapshot.status == JobStatus.completed:
        return "reverted"
    if snapshot.status in (JobStatus.cancelled, JobStatus.failed):
        return f"revert {snapshot.status}"
    return f"reverting {snapshot.percent:.0f}%"


def revert_counts(snapshot: RevertSnapshot | None) -> str:
    if snapshot is None:
        return ""
    counts = f"{snapshot.deleted:,} deleted, {snapshot.restored:,} restored"
    if snapshot.conflicts_restored:
        counts += f", {snapshot.conflicts_restored:,} changed since restored too"
    return counts + f", {snapshot.conflicts_left:,} changed since left alone"


def revert_toast(snapshot: RevertSnapshot, filename: str) -> rx.event.EventSpec:
    """The toast that tells how a revert ended."""
    if snapshot.status == JobStatus.completed:
        return rx.toast.success(f"{filename} reverted", description=revert_counts(snapshot))
    if snapshot.status == JobStatus.failed:
        return rx.toast.error(
            f"{filename}: the revert failed", description=snapshot.error or "no reason given"
        )
    return rx.toast.info(
        f"{filename}: the revert was cancelled", description=revert_counts(snapshot)
    )
