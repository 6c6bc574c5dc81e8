"""The one table from domain exceptions to HTTP answers.

Routers call domain functions and let their exceptions through; FastAPI's exception
handlers, registered once by `register_error_handlers`, answer each with its status and
`{"detail": <the exception's message>}` (plus `errors`, field by field, where the
exception names fields). A status is chosen by the exception's class, never by its text.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from product_importer.access import AccessProblem, AccessRecordNotFound, NameTaken
from product_importer.api.multipart import MultipartProblem, NoFilePart, NotMultipart
from product_importer.api.params import IdCannotExist
from product_importer.catalog_guard import CatalogBusy
from product_importer.csvfile import HeaderProblem
from product_importer.csvfile.header import HeaderMismatch
from product_importer.csvfile.mapping import MappingProblem
from product_importer.imports.intake import (
    CompressedFileDamaged,
    ContainerProblem,
    InflatedTooLarge,
    StagingUnavailable,
    UploadsBusy,
    UploadStalled,
    UploadTooLarge,
)
from product_importer.imports.jobs import JobAlreadyFinished
from product_importer.imports.options import (
    DeleteMissingNotConfirmed,
    DeleteMissingRefused,
    ImportOptionsInvalid,
)
from product_importer.imports.pending_uploads import PendingUploadBusy, PendingUploadNotFound
from product_importer.imports.preview import PreviewConflict
from product_importer.imports.revert import RevertRefused
from product_importer.imports.saved_mappings import MappingNameTaken, SavedMappingNotFound
from product_importer.jobs.store import JobNotFound
from product_importer.products.editing import ProductNotFound, SkuTaken
from product_importer.products.export_jobs import ExportConflict
from product_importer.products.fields import ProductInvalid
from product_importer.products.listing import InvalidQuery, ListTooSlow
from product_importer.webhooks.deliveries import DeliveryInProgress, DeliveryNotFound
from product_importer.webhooks.endpoints import EndpointNotFound, InvalidEndpoint

# A subclass answers as its own entry if it has one, else as its nearest listed base.
ERROR_STATUS: dict[type[Exception], int] = {
    # 400: the request body is malformed (multipart: `detail` says how)
    MultipartProblem: 400,
    # 400: a destructive choice sent without its confirmation flag
    DeleteMissingNotConfirmed: 400,
    # 403: a choice the caller's role does not allow
    DeleteMissingRefused: 403,
    # 404: no such thing (or an id past a bigint, which nothing can have)
    IdCannotExist: 404,
    JobNotFound: 404,
    ProductNotFound: 404,
    EndpointNotFound: 404,
    DeliveryNotFound: 404,
    AccessRecordNotFound: 404,
    PendingUploadNotFound: 404,
    SavedMappingNotFound: 404,
    # 409: it exists, but its state forbids this now
    JobAlreadyFinished: 409,
    PreviewConflict: 409,
    RevertRefused: 409,
    ExportConflict: 409,
    SkuTaken: 409,
    CatalogBusy: 409,
    DeliveryInProgress: 409,
    NameTaken: 409,
    MappingNameTaken: 409,
    PendingUploadBusy: 409,
    # 408: the client stopped sending an upload, or sends too slowly
    UploadStalled: 408,
    # 413: the upload is over the limit
    UploadTooLarge: 413,
    InflatedTooLarge: 413,
    # 415: not multipart/form-data at all
    NotMultipart: 415,
    # 422: what was sent is wrong; the message names the field or the problem
    HeaderProblem: 422,
    MappingProblem: 422,
    ImportOptionsInvalid: 422,
    CompressedFileDamaged: 422,
    ContainerProblem: 422,
    NoFilePart: 422,
    ProductInvalid: 422,
    InvalidQuery: 422,
    InvalidEndpoint: 422,
    AccessProblem: 422,
    # 503: nothing was stored, and the same request may succeed in a moment
    UploadsBusy: 503,
    ListTooSlow: 503,
    StagingUnavailable: 503,
}
# Headers that go with a status: when to retry; and, for an upload cut off before its end,
# that the connection closes (the client may still be sending, and is not read any more).
STATUS_HEADERS: dict[int, dict[str, str]] = {
    408: {"Connection": "close"},
    413: {"Connection": "close"},
    503: {"Retry-After": "5"},
}


def status_of(exc: Exception) -> int:
    """The status a domain exception answers with (500 if it is not in the table)."""
    for cls in type(exc).__mro__:
        if cls in ERROR_STATUS:
            return ERROR_STATUS[cls]
    return 500


def error_answer(exc: Exception) -> JSONResponse:
    body: dict[str, object] = {"detail": str(exc)}
    if isinstance(exc, ProductInvalid):
        body["errors"] = exc.errors
    if isinstance(exc, HeaderMismatch):
        body |= exc.details()
    status = status_of(exc)
    return JSONResponse(body, status_code=status, headers=STATUS_HEADERS.get(status))


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    return error_answer(exc)


def register_error_handlers(api: FastAPI) -> None:
    """Answer every exception of the table as the table says."""
    for cls in ERROR_STATUS:
        api.add_exception_handler(cls, _handle)
