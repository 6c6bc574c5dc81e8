"""An endpoint and a delivery as the Webhooks page's tables draw them."""

from __future__ import annotations

import dataclasses

from product_importer.ui.times import shown_time
from product_importer.webhooks import deliveries
from product_importer.webhooks.endpoints import (
    ALL_EVENTS,
    Endpoint,
)
from product_importer.webhooks.tables import DeliveryStatus


@dataclasses.dataclass
class EndpointRow:
    """One endpoint as the list draws it."""

    id: int = 0
    url: str = ""
    description: str = ""
    events: str = ""
    enabled: bool = True
    last_status: str = ""
    last_ok: bool = False
    last_attempt: str = ""
    failure_streak: int = 0
    disabled_reason: str = ""
    disabled_at: str = ""
    test_result: str = ""
    test_ok: bool = False


@dataclasses.dataclass
class DeliveryRow:
    """One delivery in the log, with its latest attempt."""

    id: int = 0
    created: str = ""
    event_type: str = ""
    status: str = ""
    attempts: int = 0
    status_code: str = ""
    latency: str = ""
    error: str = ""
    excerpt: str = ""
    is_test: bool = False
    next_attempt: str = ""
    can_redeliver: bool = False


def endpoint_row(endpoint: Endpoint, last_test: deliveries.LastTest | None = None) -> EndpointRow:
    """An endpoint's row: its health comes from real events only; a test send is shown
    apart, in the Test column, with when it was made."""
    if endpoint.last_status_code is not None:
        last = str(endpoint.last_status_code)
    elif endpoint.last_attempt_at is None:
        last = "no event sent yet"
    else:
        last = endpoint.last_error or ""
    return EndpointRow(
        id=endpoint.id,
        url=endpoint.shown_url,
        description=endpoint.description,
        events="all events" if ALL_EVENTS in endpoint.events else ", ".join(endpoint.events),
        enabled=endpoint.enabled,
        last_status=last,
        last_ok=endpoint.last_status_code is not None and 200 <= endpoint.last_status_code < 300,
        last_attempt=shown_time(endpoint.last_attempt_at),
        failure_streak=endpoint.failure_streak,
        disabled_reason=endpoint.disabled_reason or "",
        disabled_at=shown_time(endpoint.disabled_at),
        test_result=test_summary(last_test) if last_test else "",
        test_ok=last_test.ok if last_test else False,
    )


def delivery_row(delivery: deliveries.Delivery) -> DeliveryRow:
    last = delivery.attempt_log[-1] if delivery.attempt_log else None
    return DeliveryRow(
        id=delivery.id,
        created=shown_time(delivery.created_at),
        event_type=delivery.event_type,
        status=delivery.status,
        attempts=delivery.attempts,
        status_code=str(last.status_code) if last and last.status_code is not None else "—",
        latency=f"{last.latency_ms} ms" if last else "—",
        error=(last.error if last else delivery.last_error) or "",
        excerpt=last.response_excerpt[:200] if last else "",
        is_test=delivery.is_test,
        next_attempt=shown_time(delivery.next_attempt_at),
        can_redeliver=DeliveryStatus(delivery.status).is_final,
    )


def test_summary(test: deliveries.LastTest) -> str:
    """'test sent 2026-12-03 10:04:05 UTC: 200 · 35 ms', or what kept it from an answer."""
    status = str(test.status_code) if test.status_code is not None else "no answer"
    text = f"test sent {shown_time(test.attempted_at)}: {status} · {test.latency_ms} ms"
    return text if test.ok or not test.error else f"{text} · {test.error}"
