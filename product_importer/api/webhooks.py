"""Webhooks API: endpoints CRUD, test send, secret rotation, delivery log, redelivery."""

from __future__ import annotations

from typing import Any, ParamSpec, TypeVar

from fastapi import APIRouter, Depends, Query, Response
from starlette.concurrency import run_in_threadpool

from product_importer.access import Role
from product_importer.api.access import require
from product_importer.api.params import PageNumber, RowId, Text
from product_importer.api.schemas import Page
from product_importer.api.webhook_schemas import (
    DeliveryOut,
    TestIn,
    TestOut,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
    WebhookWithSecret,
)
from product_importer.webhooks import deliveries, endpoints
from product_importer.webhooks.endpoints import EndpointChanges
from product_importer.webhooks.tables import DeliveryStatus

P = ParamSpec("P")
T = TypeVar("T")

router = APIRouter(
    prefix="/api/webhooks", tags=["webhooks"], dependencies=[Depends(require(Role.admin))]
)

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown webhook"},
    422: {"description": "A field is wrong"},
}


@router.get("", response_model=list[WebhookOut])
def list_webhooks() -> list[WebhookOut]:
    return [WebhookOut.of(e) for e in endpoints.list_endpoints()]


@router.post("", status_code=201, response_model=WebhookWithSecret, responses=_ERRORS)
def create_webhook(body: WebhookIn) -> WebhookWithSecret:
    """Add an endpoint. The answer holds its signing secret: the only time it is shown
    (besides rotation)."""
    endpoint = endpoints.create_endpoint(
        body.url,
        body.events,
        enabled=body.enabled,
        description=body.description,
    )
    return WebhookWithSecret.of(endpoint)


@router.get("/{webhook_id}", response_model=WebhookOut, responses=_ERRORS)
def get_webhook(webhook_id: RowId) -> WebhookOut:
    return WebhookOut.of(endpoints.get_endpoint(webhook_id))


@router.put("/{webhook_id}", response_model=WebhookOut, responses=_ERRORS)
def replace_webhook(webhook_id: RowId, body: WebhookIn) -> WebhookOut:
    changes = EndpointChanges(
        url=body.url, events=body.events, enabled=body.enabled, description=body.description
    )
    return WebhookOut.of(endpoints.update_endpoint(webhook_id, changes))


@router.patch("/{webhook_id}", response_model=WebhookOut, responses=_ERRORS)
def change_webhook(webhook_id: RowId, body: WebhookPatch) -> WebhookOut:
    """Change some fields. `enabled: true` re-enables an endpoint and clears its failure
    streak and disabled reason."""
    changes = EndpointChanges(**body.model_dump(exclude_unset=True))
    return WebhookOut.of(endpoints.update_endpoint(webhook_id, changes))


@router.delete("/{webhook_id}", status_code=204, responses=_ERRORS)
def delete_webhook(webhook_id: RowId) -> Response:
    endpoints.delete_endpoint(webhook_id)
    return Response(status_code=204)


@router.post("/{webhook_id}/test", response_model=TestOut, responses=_ERRORS)
async def test_webhook(webhook_id: RowId, body: TestIn | None = None) -> TestOut:
    """Send a sample event now and answer the receiver's status code and the latency."""
    event_type = body.event_type if body else None
    result = await run_in_threadpool(deliveries.send_test_event, webhook_id, event_type)
    return TestOut.of(result)


@router.post("/{webhook_id}/rotate-secret", response_model=WebhookWithSecret, responses=_ERRORS)
def rotate_webhook_secret(webhook_id: RowId) -> WebhookWithSecret:
    """A new secret; the old one stays valid, and signs too, for 24 hours."""
    return WebhookWithSecret.of(endpoints.rotate_secret(webhook_id))


@router.get("/{webhook_id}/deliveries", response_model=Page[DeliveryOut], responses=_ERRORS)
def list_webhook_deliveries(
    webhook_id: RowId,
    status: DeliveryStatus | None = None,
    event_type: Text | None = None,
    page: PageNumber = 1,
    page_size: int = Query(50, ge=1, le=200),
) -> Page[DeliveryOut]:
    """The delivery log, newest first: each delivery with every attempt."""
    items, total = deliveries.list_deliveries(
        webhook_id,
        status=status.value if status else None,
        event_type=event_type,
        page=page,
        page_size=page_size,
    )
    return Page(
        items=[DeliveryOut.of(d) for d in items], total=total, page=page, page_size=page_size
    )


@router.post(
    "/deliveries/{delivery_id}/redeliver",
    status_code=202,
    response_model=DeliveryOut,
    responses={404: {"description": "Unknown delivery"}, 409: {"description": "In progress"}},
)
def redeliver(delivery_id: RowId) -> DeliveryOut:
    """Send a delivery again (same `webhook-id`, a fresh retry schedule)."""
    return DeliveryOut.of(deliveries.redeliver(delivery_id))
