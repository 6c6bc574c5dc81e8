"""Imports API: upload, list, read, follow (SSE), error report, cancel."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from product_importer.access import Principal, Role
from product_importer.api.access import require
from product_importer.api.job_events import job_events_response
from product_importer.api.multipart import FilePart
from product_importer.api.params import PageNumber, RowId, Text
from product_importer.api.schemas import ImportJobOut, Page
from product_importer.csvfile.mapping import MappingProblem, parse_mapping
from product_importer.imports import jobs, number_style, pending_uploads, preview, template
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
                            "mapping_id": {
                                "type": "string",
                                "description": "Optional, before `file`: the id of a saved "
                                "mapping (GET /api/mappings) to read the file with",
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
    mapping_id: Annotated[Text | None, Query(description="As the form field `mapping_id`")] = None,
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
    that is clear, or by the saved mapping made for the same header names; else the 422
    lists `headers_found`, `missing`, `ambiguous` and `suggestions`, and keeps the file:
    `pending_upload.id` is posted to `/api/imports/pending/{id}` with a mapping to start
    the import with no second upload. A `mapping` or `mapping_id` field chooses the
    columns in the upload itself."""
    part = FilePart(request)
    filename = await part.open()
    mapping_text = part.fields.get("mapping", mapping)
    chosen = parse_mapping(mapping_text) if mapping_text else None
    saved_id = _mapping_id(part.fields.get("mapping_id", mapping_id))
    if chosen is not None and saved_id is not None:
        raise MappingProblem("give either a mapping or a mapping_id, not both")
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
        mapping_id=saved_id,
        decimal=decimal,
        options=options,
        dry_run=truthy(part.fields.get("dry_run", dry_run)),
        sheet=part.fields.get("sheet", sheet) or None,
        keep_for=principal.owner_key,
    )
    return ImportJobOut.of(job)


def _mapping_id(text: str | None) -> int | None:
    if not text:
        return None
    if not text.strip().isdigit() or int(text) >= 2**63:
        raise MappingProblem(f"mapping_id must be the id of a saved mapping (not {text!r})")
    return int(text)


class PendingImport(BaseModel):
    """How to import a kept upload: its columns (inline or a saved mapping) and choices."""

    mapping: dict[Text, Text | None] | None = Field(
        None, description="field -> header; fields left out take the suggestion"
    )
    mapping_id: RowId | None = Field(None, description="a saved mapping's id instead")
    save_as: Text | None = Field(None, description="also save `mapping` under this name")
    decimal: Literal[".", ","] | None = None
    dry_run: bool = Field(False, description="true: a preview, applied on Apply")
    mode: Text | None = Field(None, description="create_update, create_only, update_only")
    missing: Text | None = Field(None, description="leave, deactivate or delete (admins)")
    confirm_delete_missing: bool = False


class PendingUploadOut(BaseModel):
    id: str
    filename: str
    file_size: int
    headers: list[str]
    expires_at: datetime


@router.get("/pending/{upload_id}", response_model=PendingUploadOut)
def get_pending_upload(upload_id: Text, request: Request) -> PendingUploadOut:
    """A file kept while its columns are chosen (yours only)."""
    principal: Principal = request.state.principal
    kept = pending_uploads.get_upload(upload_id, principal.owner_key)
    return PendingUploadOut(**kept.model_dump())


@router.post(
    "/pending/{upload_id}",
    status_code=202,
    response_model=ImportJobOut,
    responses={404: {}, 409: {}, 422: {}},
)
async def import_pending_upload(
    upload_id: Text, body: PendingImport, request: Request
) -> ImportJobOut:
    """Import a file kept after a header mismatch (its `pending_upload.id`) with a mapping:
    no second upload. The kept file is dropped once the job exists; a refused mapping
    leaves it for another try. `404` unknown, expired or someone else's; `409` another
    request is importing it."""
    if body.mapping is not None and body.mapping_id is not None:
        raise MappingProblem("give either a mapping or a mapping_id, not both")
    if body.save_as is not None and body.mapping is None:
        raise MappingProblem("save_as saves an inline mapping: send `mapping` with it")
    principal: Principal = request.state.principal
    options = ImportOptions.parse(
        body.mode,
        body.missing,
        is_admin=principal.may(Role.admin),
        confirm_delete_missing=body.confirm_delete_missing,
    )
    job = await jobs.start_pending_import(
        upload_id,
        principal.owner_key,
        mapping=body.mapping,
        mapping_id=body.mapping_id,
        save_as=body.save_as,
        decimal=body.decimal,
        options=options,
        dry_run=body.dry_run,
    )
    return ImportJobOut.of(job)


@router.delete("/pending/{upload_id}", status_code=204)
def forget_pending_upload(upload_id: Text, request: Request) -> Response:
    """Drop a kept file (yours) without importing it."""
    principal: Principal = request.state.principal
    if not pending_uploads.forget_upload(upload_id, principal.owner_key):
        raise pending_uploads.PendingUploadNotFound(upload_id)
    return Response(status_code=204)


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


class PreviewOut(PreviewReport):
    price_style: number_style.PriceStyle


@router.get("/{job_id}/preview", response_model=PreviewOut)
def get_preview(job_id: RowId) -> PreviewOut:
    """What a previewed import would do: its counts, up to 20 changed products (before and
    after, against the catalog now), its first bad rows (all: errors.csv) and how its
    prices were read (`price_style`: another can be chosen with POST .../reread)."""
    report = preview.preview_report(job_id)
    style = number_style.price_style(jobs.get_job(job_id))
    return PreviewOut(**report.model_dump(), price_style=style)


@router.post("/{job_id}/apply", response_model=ImportJobOut, responses={409: {}})
def apply_import(job_id: RowId) -> ImportJobOut:
    """Apply a preview from its kept rows (no second upload); `409` when it is not a
    preview waiting for Apply (not ready yet, applied, discarded or expired)."""
    return ImportJobOut.of(preview.apply_preview(job_id))


class Reread(BaseModel):
    decimal: Literal[".", ","] = Field(description="the prices' decimal separator")


@router.post("/{job_id}/reread", status_code=202, response_model=ImportJobOut, responses={409: {}})
async def reread_import(job_id: RowId, body: Reread) -> ImportJobOut:
    """Read a preview waiting for Apply again with another decimal separator for its
    prices, from the file it kept (no second upload): a new preview (same columns and
    options) replaces it, which is discarded. `409` when it is no preview waiting for
    Apply, or its file was not kept."""
    return ImportJobOut.of(await number_style.reread_preview(job_id, body.decimal))


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
