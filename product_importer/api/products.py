"""Products API: list (filters, sort, pages), read, create, replace, change, delete, and
delete-all as a background job followed like an import (SSE)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from product_importer.access import Role
from product_importer.api.access import require
from product_importer.api.job_events import job_events_response
from product_importer.api.params import PageNumber, RowId, Text
from product_importer.api.schemas import (
    BulkDeleteJobOut,
    ProductIn,
    ProductOut,
    ProductPageOut,
    product_patch_schema,
)
from product_importer.products import bulk_delete, editing
from product_importer.products.export import export_csv
from product_importer.products.fields import ProductInvalid
from product_importer.products.listing import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    ProductFilter,
    ProductSort,
    list_products,
)

router = APIRouter(
    prefix="/api/products", tags=["products"], dependencies=[Depends(require(Role.editor))]
)


def _body_doc(schema: dict) -> dict:
    return {"requestBody": {"content": {"application/json": {"schema": schema}}, "required": True}}


_BODY_DOC = _body_doc(ProductIn.model_json_schema())
_PATCH_DOC = _body_doc(product_patch_schema())
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No product with this id"},
    409: {"description": "The SKU is taken (in any letter case)"},
    422: {"description": "A field is wrong: `detail` says which, `errors` maps field to problem"},
}


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError as exc:
        raise ProductInvalid({"body": f"The body is not valid JSON ({exc})."}) from exc
    if not isinstance(body, dict):
        raise ProductInvalid({"body": "The body must be a JSON object of product fields."})
    return body


def product_filter(
    sku: Annotated[Text, Query(description="Substring of the SKU, any letter case")] = "",
    name: Annotated[Text, Query(description="Substring of the name, any letter case")] = "",
    description: Annotated[
        Text, Query(description="Substring of the description, any letter case")
    ] = "",
    q: Annotated[Text, Query(description="Substring of the SKU, the name or the description")] = "",
    active: bool | None = Query(None, description="Only active (true) or inactive (false)"),
) -> ProductFilter:
    """The list's filters, as the list and the export take them (they combine)."""
    return ProductFilter(sku=sku, name=name, description=description, q=q, active=active)


Filters = Annotated[ProductFilter, Depends(product_filter)]


@router.get("", response_model=ProductPageOut)
def list_catalog(
    filters: Filters,
    page: PageNumber = 1,
    page_size: int = Query(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
    sort: Annotated[
        Text, Query(description="A column; prefix - for descending, e.g. -price")
    ] = "sku",
) -> ProductPageOut:
    """One page of products; filters combine. `total` is exact up to 1,000 matches and
    estimated beyond (`total_is_exact` says which)."""
    result = list_products(
        filters,
        ProductSort.parse(sort),
        page=page,
        page_size=page_size,
    )
    return ProductPageOut(
        items=[ProductOut.of(p) for p in result.items],
        total=result.total,
        total_is_exact=result.total_is_exact,
        page=page,
        page_size=page_size,
    )


@router.get("/export", response_class=StreamingResponse)
def export_catalog(filters: Filters) -> StreamingResponse:
    """The products the filters show (all without filters), by SKU, as a CSV file with the
    import's columns (`sku,name,description,price,active`), streamed."""
    return StreamingResponse(
        export_csv(filters),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="products.csv"'},
    )


@router.delete(
    "",
    status_code=202,
    response_model=BulkDeleteJobOut,
    dependencies=[Depends(require(Role.admin))],
    responses={
        400: {"description": "confirm=true is missing"},
        409: {"description": "An import is being uploaded, waits or runs"},
    },
)
def delete_all_products(
    confirm: bool = Query(False, description="Must be true: every product is deleted"),
) -> BulkDeleteJobOut:
    """Delete every product in the background; follow the job at
    `/api/products/bulk-deletes/{id}/events`. All or nothing."""
    if not confirm:
        raise HTTPException(400, "deleting all products needs confirm=true")
    return BulkDeleteJobOut.of(bulk_delete.request_bulk_delete())


@router.get("/bulk-deletes/{job_id}", response_model=BulkDeleteJobOut)
def get_bulk_delete(job_id: RowId) -> BulkDeleteJobOut:
    return BulkDeleteJobOut.of(bulk_delete.get_bulk_delete(job_id))


@router.get("/bulk-deletes/{job_id}/events", response_class=StreamingResponse)
async def bulk_delete_events(job_id: RowId) -> StreamingResponse:
    """Server-Sent Events: the current snapshot, then each update, until the job ends."""
    return await job_events_response(bulk_delete.BULK_DELETE, job_id)


@router.post(
    "", status_code=201, response_model=ProductOut, responses=_ERRORS, openapi_extra=_BODY_DOC
)
async def create_product(request: Request) -> ProductOut:
    """Create a product: `sku` and `name` required, `price` >= 0, `active` default true."""
    body = await _json_object(request)
    return ProductOut.of(await run_in_threadpool(editing.create_product, body))


@router.get("/{product_id}", response_model=ProductOut, responses={404: _ERRORS[404]})
def get_product(product_id: RowId) -> ProductOut:
    return ProductOut.of(editing.get_product(product_id))


async def _update(request: Request, product_id: RowId, *, partial: bool) -> ProductOut:
    body = await _json_object(request)
    product = await run_in_threadpool(editing.update_product, product_id, body, partial=partial)
    return ProductOut.of(product)


@router.put("/{product_id}", response_model=ProductOut, responses=_ERRORS, openapi_extra=_BODY_DOC)
async def replace_product(request: Request, product_id: RowId) -> ProductOut:
    """Replace every field (missing optional fields take their defaults)."""
    return await _update(request, product_id, partial=False)


@router.patch(
    "/{product_id}", response_model=ProductOut, responses=_ERRORS, openapi_extra=_PATCH_DOC
)
async def change_product(request: Request, product_id: RowId) -> ProductOut:
    """Change only the fields sent."""
    return await _update(request, product_id, partial=True)


@router.delete("/{product_id}", status_code=204, responses={404: _ERRORS[404]})
def delete_product(product_id: RowId) -> None:
    editing.delete_product(product_id)
