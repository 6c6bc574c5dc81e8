"""Reverting imports: ask for it, follow it (SSE), see the conflicts, cancel it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from product_importer.access import Role
from product_importer.api.access import require
from product_importer.api.job_events import job_events_response
from product_importer.api.params import PageNumber, RowId
from product_importer.imports import revert as reverts
from product_importer.imports.revert_conflicts import ConflictPage, conflicts
from product_importer.jobs.snapshot import percent_done
from product_importer.jobs.store import JobNotFound
from product_importer.models import ImportRevert

# Editors and admins, as imports: a revert takes back only what an import did.
router = APIRouter(
    prefix="/api/imports", tags=["imports"], dependencies=[Depends(require(Role.editor))]
)


class RevertIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    restore_conflicts: bool = Field(
        False,
        description="also give back their values before the import to the products "
        "changed since (else they are listed and left alone)",
    )


class RevertOut(BaseModel):
    id: int
    import_id: int
    status: str
    restore_conflicts: bool
    total: int = Field(description="before-images to go through")
    processed: int
    deleted: int = Field(description="products the import created, deleted")
    restored: int = Field(description="products the import changed, given their values back")
    conflicts_left: int = Field(description="products changed since the import, left alone")
    conflicts_restored: int = Field(description="products changed since, restored anyway")
    percent: float
    error: str | None
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    waiting_for_worker: bool

    @classmethod
    def of(cls, job: ImportRevert) -> RevertOut:
        return cls(
            **job.model_dump(),
            percent=percent_done(job.status, job.processed, job.total),
            waiting_for_worker=reverts.REVERTS.waiting_for_worker(job),
        )


class RevertReport(BaseModel):
    revert: RevertOut | None = Field(description="null: the import was not reverted")
    conflicts: ConflictPage = Field(
        description="products changed since the import: those a revert would leave alone, "
        "or (once reverted) those it found"
    )


_REFUSED: dict[int | str, dict[str, Any]] = {
    409: {
        "description": "Not revertible: a preview never applied, not ended, older than "
        "REVERT_DAYS, already reverted or being reverted (`detail` says which)"
    }
}


@router.post("/{job_id}/revert", status_code=202, response_model=RevertOut, responses=_REFUSED)
def revert_import(job_id: RowId, body: RevertIn | None = None) -> RevertOut:
    """Take an import back in the background: the products it created are deleted, the
    ones it changed get their values back. Products changed since are left alone unless
    `restore_conflicts`. A cancelled or failed revert is started again where it stopped."""
    choice = body or RevertIn()
    return RevertOut.of(reverts.request_revert(job_id, restore_conflicts=choice.restore_conflicts))


@router.get("/{job_id}/revert", response_model=RevertReport)
def get_revert(
    job_id: RowId, page: PageNumber = 1, page_size: int = Query(50, ge=1, le=500)
) -> RevertReport:
    """The import's revert (if any) and a page of its conflicts."""
    revert = reverts.revert_of(job_id)
    found = conflicts(job_id, None if revert is None else revert.id, page=page, page_size=page_size)
    return RevertReport(revert=None if revert is None else RevertOut.of(revert), conflicts=found)


@router.post("/{job_id}/revert/cancel", response_model=RevertOut, responses=_REFUSED)
def cancel_revert(job_id: RowId) -> RevertOut:
    """Stop the import's revert at its next batch (asking again goes on from there)."""
    return RevertOut.of(reverts.cancel_revert(job_id))


@router.get("/{job_id}/revert/events", response_class=StreamingResponse)
async def revert_events(job_id: RowId) -> StreamingResponse:
    """Server-Sent Events of the import's revert, until it ends."""
    revert = reverts.revert_of(job_id)
    if revert is None or revert.id is None:
        raise JobNotFound(reverts.REVERTS.label, job_id)
    return await job_events_response(reverts.REVERTS, revert.id)
