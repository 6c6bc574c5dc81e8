"""Imports API: upload, list, read, follow (SSE), error report, cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from product_importer.access import Principal, Role
from product_importer.api.access import require
from product_importer.api.job_events import job_events_response
from product_importer.api.multipart import FilePart
from product_importer.api.params import PageNumber, RowId, Text
from product_importer.api.schemas import ImportJobOut, Page
from product_importer.csvfile.mapping import parse_mapping
from product_importer.imports import jobs, preview, template
from product_importer.imports.kind import IMPORTS
from product_importer.imports.options import ImportMode, ImportOptions, MissingChoice, truthy
from product_importer.imports.preview import PreviewReport

router = APIRouter(
    prefix="/api/imports", tags=["imports"], dependencies=[Depends(require(Role.editor))]
)

# Room for the multipart envelope when comparing Content-Length with the size limit.
_MULTIPART_OVERHEAD = 64 * 1024


@router.post(
    "",
    status_code=202,
    response_model=ImportJobOut,
    responses={
        400: {"description": "The multipart body is malformed (`detail` says how)"},
        408: {"description": "The client stopped sending, or sends too slowly"},
        409: {"description": "All products are being deleted"},
        413: {"description": "File too large"},
        415: {"description": "The body is not multipart/form-data"},
        422: {"description": "Bad header, no `file` field, or a .zip/.xlsx that cannot be read"},
        503: {"description": "Too many uploads at once, or the database went away: retry"},
    },
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "mapping": {
                                "type": "string",
                                "description": "Optional, before `file`: a JSON object "
                                'of field to header, e.g. {"sku": "Variant SKU", "name": '
                                '"Title"}; it wins over the suggested mapping. Fields '
                                "left out take the suggestion; null leaves an optional "
                                "field out.",
                            },
                            "decimal": {
                                "type": "string",
                                "enum": [".", ","],
                                "description": "Optional, before `file`: the prices' "
                                "decimal separator (else seen from the file's first rows)",
                            },
                            "dry_run": {
                                "type": "string",
                                "description": "Optional, before `file`: true makes the "
                                "import a preview (POST .../apply or .../discard)",
                            },
                            "mode": {
                                "type": "string",
                                "enum": [m.value for m in ImportMode],
                                "description": "Optional, before `file` (default create_update)",
                            },
                            "missing": {
                                "type": "string",
                                "enum": [m.value for m in MissingChoice],
                                "description": "Optional, before `file`: catalog products "
                                "missing from the file (default leave; delete: admins, "
                                "with confirm_delete_missing=true)",
                            },
                            "confirm_delete_missing": {"type": "string"},
                            "sheet": {
                                "type": "string",
                                "description": "Optional, before `file`: the worksheet "
                                "of an .xlsx to read (default: the first)",
                            },
                            "file": {"type": "string", "format": "binary"},
                        },
                        "required": ["file"],
                    }
                }
            },
            "required": True,
        }
    },
)
async def upload_import(
    request: Request,
    mapping: Annotated[Text | None, Query(description="As the form field `mapping`")] = None,
    decimal: Annotated[Text | None, Query(description="As the form field `decimal`")] = None,
    dry_run: Annotated[Text | None, Query(description="true: a preview, applied on Apply")] = None,
    mode: Annotated[
        Text | None, Query(description="create_update, create_only, update_only")
    ] = None,
    missing: Annotated[
        Text | None, Query(description="leave, deactivate or delete (admins)")
    ] = None,
    confirm_delete_missing: Annotated[
        Text | None, Query(description="true: needed with missing=delete")
    ] = None,
    sheet: Annotated[Text | None, Query(description="As the form field `sheet`")] = None,
) -> ImportJobOut:
    """Upload a CSV (multipart field `file`, also .csv.gz, UTF-16 text, .xlsx or a .zip
    holding one CSV or .xlsx); the header is
    checked before a job exists. Headers other than ours are mapped by their names when
    that is clear; else the 422 lists `headers_found`, `missing`, `ambiguous` and
    `suggestions`, and a `mapping` field chooses the columns."""
    part = FilePart(request)
    filename = await part.open()
    mapping_text = part.fields.get("mapping", mapping)
    chosen = parse_mapping(mapping_text) if mapping_text else None
    decimal = part.fields.get("decimal", decimal) or None
    principal: Principal = request.state.principal
    options = ImportOptions.parse(
        part.fields.get("mode", mode),
        part.fields.get("missing", missing),
        is_admin=principal.may(Role.admin),
        confirm_delete_missing=truthy(
            part.fields.get("confirm_delete_missing", confirm_delete_missing)
        ),
    )
    length = request.headers.get("content-length", "")
    hint = max(0, int(length) - _MULTIPART_OVERHEAD) if length.isdigit() else None
    job = await jobs.start_import(
        filename,
        part.chunks(),
        size_hint=hint,
        mapping=chosen,
        decimal=decimal,
        options=options,
        dry_run=truthy(part.fields.get("dry_run", dry_run)),
        sheet=part.fields.get("sheet", sheet) or None,
    )
    return ImportJobOut.of(job)


@router.get("", response_model=Page[ImportJobOut])
def list_imports(
    page: PageNumber = 1, page_size: int = Query(20, ge=1, le=200)
) -> Page[ImportJobOut]:
    """Past and running imports, newest first."""
    found = jobs.list_jobs(page=page, page_size=page_size)
    return Page(
        items=[ImportJobOut.of(j) for j in found.items],
        total=found.total,
        page=found.page,
        page_size=found.page_size,
    )


@router.get("/template.csv", response_class=Response)
def import_template() -> Response:
    """A CSV with our column names and two sample rows; it imports as it is."""
    return Response(
        template.template_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{template.TEMPLATE_FILENAME}"'},
    )


@router.get("/{job_id}", response_model=ImportJobOut)
def get_import(job_id: RowId) -> ImportJobOut:
    return ImportJobOut.of(jobs.get_job(job_id))


@router.post("/{job_id}/cancel", response_model=ImportJobOut)
def cancel_import(job_id: RowId) -> ImportJobOut:
    """Stop a running import at its next batch (products already applied stay)."""
    return ImportJobOut.of(jobs.cancel_job(job_id))


@router.get("/{job_id}/preview", response_model=PreviewReport)
def get_preview(job_id: RowId) -> PreviewReport:
    """What a previewed import would do: its counts, up to 20 changed products (before and
    after, against the catalog now) and its first bad rows (all: errors.csv)."""
    return preview.preview_report(job_id)


@router.post("/{job_id}/apply", response_model=ImportJobOut, responses={409: {}})
def apply_import(job_id: RowId) -> ImportJobOut:
    """Apply a preview from its kept rows (no second upload); `409` when it is not a
    preview waiting for Apply (not ready yet, applied, discarded or expired)."""
    return ImportJobOut.of(preview.apply_preview(job_id))


@router.post("/{job_id}/discard", response_model=ImportJobOut, responses={409: {}})
def discard_import(job_id: RowId) -> ImportJobOut:
    """Discard a preview: nothing is written and its staged rows are dropped."""
    return ImportJobOut.of(preview.discard_preview(job_id))


@router.get("/{job_id}/errors.csv", response_class=StreamingResponse)
def import_errors(job_id: RowId) -> StreamingResponse:
    """The skipped rows of a job, to fix and import again: the file's own columns with
    each row's values, then `error` (its line and every problem it has)."""
    jobs.get_job(job_id)
    return StreamingResponse(
        jobs.error_report(job_id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="import-{job_id}-errors.csv"'},
    )


@router.get("/{job_id}/events", response_class=StreamingResponse)
async def import_events(job_id: RowId) -> StreamingResponse:
    """Server-Sent Events: the current snapshot, then each update, until the job ends."""
    return await job_events_response(IMPORTS, job_id)
