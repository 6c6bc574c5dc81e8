"""Export jobs API: ask for an export of what the list's filters show, follow it (JSON or
SSE), download its CSV file once completed, cancel it.

Editors and admins may export. A caller sees its own exports (a user's tokens count as
that user); admins see everyone's. Anyone else's export answers 404, as an unknown id does.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from product_importer.access import Principal, Role
from product_importer.api.access import require
from product_importer.api.job_events import job_events_response
from product_importer.api.params import PageNumber, RowId, Text
from product_importer.api.products import Filters
from product_importer.api.schemas import ExportJobOut, Page
from product_importer.products import export_jobs
from product_importer.products.export_download import export_file, ready_export
from product_importer.products.export_jobs import EXPORTS, ExportFormat, Requester
from product_importer.products.listing import ProductFilter

router = APIRouter(prefix="/api/products/exports", tags=["exports"])

Caller = Annotated[Principal, Depends(require(Role.editor))]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No export with this id that the caller may see"}
}
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "The export's state forbids this now (`detail` says why)"}
}


class ExportFiltersIn(BaseModel):
    """The list's filters as a JSON body (the same names as its query parameters), and the
    file's format."""

    model_config = ConfigDict(extra="forbid")

    sku: Text = ""
    name: Text = ""
    description: Text = ""
    q: Text = ""
    active: bool | None = None
    format: ExportFormat = ExportFormat.csv


def requester(principal: Principal) -> Requester:
    return Requester(principal.owner_key, principal.name, principal.may(Role.admin))


@router.post("", status_code=202, response_model=ExportJobOut)
def create_export(
    caller: Caller,
    query_filters: Filters,
    body: Annotated[ExportFiltersIn | None, Body()] = None,
    file_format: Annotated[
        ExportFormat, Query(alias="format", description="csv, or xlsx for a workbook")
    ] = ExportFormat.csv,
) -> ExportJobOut:
    """Export the products the filters show (all without filters) as a CSV file with the
    import's columns (`format=xlsx`: an .xlsx workbook), in the background. Filters as
    query parameters, as the list takes them, or as a JSON body with the same names and
    `format` (the body wins when both are sent).
    Follow the job at `/api/products/exports/{id}` or `.../events`; download it from its
    `download_url` once completed."""
    if body is not None:
        query_filters = ProductFilter(**body.model_dump(exclude={"format"}))
        file_format = body.format
    job = export_jobs.request_export(query_filters, requester(caller), file_format)
    return ExportJobOut.of(job)


@router.get("", response_model=Page[ExportJobOut])
def list_exports(
    caller: Caller,
    page: PageNumber = 1,
    page_size: int = Query(20, ge=1, le=100),
) -> Page[ExportJobOut]:
    """The caller's exports still kept (an admin: everyone's), newest first."""
    jobs, total = export_jobs.list_exports(requester(caller), page=page, page_size=page_size)
    return Page(
        items=[ExportJobOut.of(j) for j in jobs], total=total, page=page, page_size=page_size
    )


@router.get("/{job_id}", response_model=ExportJobOut, responses=_NOT_FOUND)
def get_export(caller: Caller, job_id: RowId) -> ExportJobOut:
    return ExportJobOut.of(export_jobs.get_export(job_id, requester(caller)))


@router.get("/{job_id}/events", response_class=StreamingResponse, responses=_NOT_FOUND)
async def export_events(caller: Caller, job_id: RowId) -> StreamingResponse:
    """Server-Sent Events: the current snapshot, then each update, until the job ends."""
    await run_in_threadpool(export_jobs.get_export, job_id, requester(caller))
    return await job_events_response(EXPORTS, job_id)


@router.get(
    "/{job_id}/download",
    response_class=StreamingResponse,
    responses={
        **_NOT_FOUND,
        **_CONFLICT,
        200: {"content": {"text/csv": {}, ExportFormat.xlsx.media_type: {}}},
    },
)
def download_export(caller: Caller, job_id: RowId) -> StreamingResponse:
    """The export's file (columns `sku,name,description,price,active`), streamed."""
    job = ready_export(job_id, requester(caller))
    return StreamingResponse(
        export_file(job),
        media_type=ExportFormat(job.format).media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{export_jobs.file_name(job)}"',
            "Content-Length": str(job.size_bytes),
        },
    )


@router.post("/{job_id}/cancel", status_code=202, response_model=ExportJobOut, responses=_CONFLICT)
def cancel_export(caller: Caller, job_id: RowId) -> ExportJobOut:
    """Cancel the export: at once while it waits, else its worker stops within a chunk."""
    return ExportJobOut.of(export_jobs.cancel_export(job_id, requester(caller)))
