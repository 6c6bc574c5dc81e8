"""The delivery log (every attempt), redelivery from it, and the synchronous test send."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from product_importer import db
from product_importer.events import EventType
from product_importer.events.payloads import sample_payload
from product_importer.webhooks.delivery import record_result, take_delivery
from product_importer.webhooks.endpoints import (
    ALL_EVENTS,
    EVENT_TYPES,
    EndpointNotFound,
    InvalidEndpoint,
    get_endpoint,
)
from product_importer.webhooks.fanout import event_body, new_message_id
from product_importer.webhooks.sender import AttemptResult, send_webhook
from product_importer.webhooks.tables import DeliveryStatus


class DeliveryNotFound(LookupError):
    def __init__(self, delivery_id: int) -> None:
        super().__init__(f"delivery {delivery_id} not found")


class DeliveryInProgress(ValueError):
    def __init__(self, delivery_id: int) -> None:
        super().__init__(f"delivery {delivery_id} is still being delivered")


@dataclass
class Attempt:
    attempt: int
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    response_excerpt: str
    error: str | None


@dataclass
class Delivery:
    """One event on its way to one endpoint, with every attempt made so far."""

    id: int
    endpoint_id: int
    event_id: int | None
    event_type: str
    message_id: str
    status: str
    attempts: int
    is_test: bool
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None
    attempt_log: list[Attempt] = field(default_factory=list)


_DELIVERY_COLUMNS = """id, endpoint_id, event_id, event_type, message_id, status, attempts, is_test,
    CASE WHEN status = 'pending' THEN next_attempt_at END AS next_attempt_at,
    last_status_code, last_error, created_at, finished_at"""


def _with_attempts(conn: psycopg.Connection, rows: list[dict[str, Any]]) -> list[Delivery]:
    deliveries = [Delivery(**row) for row in rows]
    if not deliveries:
        return deliveries
    by_id = {d.id: d for d in deliveries}
    with conn.cursor(row_factory=dict_row) as cur:
        for row in cur.execute(
            """SELECT delivery_id, attempt, attempted_at, status_code, latency_ms,
                      response_excerpt, error
               FROM webhook_attempts WHERE delivery_id = ANY(%s) ORDER BY delivery_id, attempt""",
            (list(by_id),),
        ):
            by_id[row.pop("delivery_id")].attempt_log.append(Attempt(**row))
    return deliveries


def list_deliveries(
    endpoint_id: int,
    *,
    status: str | None = None,
    event_type: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[Delivery], int]:
    """One page of an endpoint's deliveries, newest first, and how many match in all."""
    get_endpoint(endpoint_id)
    where = ["endpoint_id = %(endpoint)s"]
    if status:
        where.append("status = %(status)s")
    if event_type:
        where.append("event_type = %(event_type)s")
    params = {
        "endpoint": endpoint_id,
        "status": status,
        "event_type": event_type,
        "limit": page_size,
        "offset": (page - 1) * page_size,
    }
    condition = " AND ".join(where)
    with db.pooled_connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        total = db.scalar(
            conn, f"SELECT count(*) FROM webhook_deliveries WHERE {condition}", params
        )
        rows = cur.execute(
            f"""SELECT {_DELIVERY_COLUMNS} FROM webhook_deliveries WHERE {condition}
                ORDER BY id DESC LIMIT %(limit)s OFFSET %(offset)s""",
            params,
        ).fetchall()
        return _with_attempts(conn, rows), int(total)


def get_delivery(delivery_id: int) -> Delivery:
    with db.pooled_connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = %s", (delivery_id,)
        ).fetchone()
        if row is None:
            raise DeliveryNotFound(delivery_id)
        return _with_attempts(conn, [row])[0]


def redeliver(delivery_id: int) -> Delivery:
    """Send a delivery again, with the same `webhook-id` and a fresh retry schedule."""
    from product_importer.webhooks.actors import deliver_webhook

    with db.pooled_connection() as conn:
        row = conn.execute(
            "SELECT status FROM webhook_deliveries WHERE id = %s FOR UPDATE", (delivery_id,)
        ).fetchone()
        if row is None:
            raise DeliveryNotFound(delivery_id)
        if not DeliveryStatus(row[0]).is_final:
            raise DeliveryInProgress(delivery_id)
        conn.execute(
            """UPDATE webhook_deliveries SET status = 'pending', schedule_step = 0,
                   next_attempt_at = now(), enqueued_at = now(), finished_at = NULL
               WHERE id = %s""",
            (delivery_id,),
        )
        conn.commit()
    deliver_webhook.send(delivery_id)
    return get_delivery(delivery_id)


def sample_data(event_type: str) -> dict[str, Any]:
    """The sample of an event type, of the very payload type its real events carry."""
    return sample_payload(EventType(event_type)).model_dump(mode="json")


@dataclass(frozen=True)
class TestResult:
    """What the test send answered (the API's test answer)."""

    delivery_id: int
    status_code: int | None
    latency_ms: int
    ok: bool
    error: str | None


def send_test_event(endpoint_id: int, event_type: str | None = None) -> TestResult:
    """Send a sample event now, in this request, and log it like any delivery. A test never
    changes the endpoint's health or disables it."""
    endpoint = get_endpoint(endpoint_id)
    if event_type is None:
        subscribed = [e for e in endpoint.events if e != ALL_EVENTS]
        event_type = subscribed[0] if subscribed else str(EventType.product_updated)
    if event_type not in EVENT_TYPES:
        raise InvalidEndpoint("event_type", f"unknown event type {event_type!r}")
    body = event_body(event_type, datetime.now(UTC), sample_data(event_type))
    with db.pooled_connection() as conn:
        delivery_id = db.scalar(
            conn,
            """INSERT INTO webhook_deliveries
                   (endpoint_id, event_type, message_id, body, is_test, schedule_step)
               VALUES (%s, %s, %s, %s, true, %s) RETURNING id""",
            # A test is tried once: its schedule starts used up.
            (endpoint_id, event_type, new_message_id(test=True), body, 1_000_000),
        )
        conn.commit()
        taken = take_delivery(conn, delivery_id)
        if taken is None:  # deleted meanwhile
            raise EndpointNotFound(endpoint_id)
        result = send_webhook(
            taken.url, message_id=taken.message_id, body=taken.body, secrets=taken.secrets
        )
        record_result(conn, taken, result)
    return _test_result(delivery_id, result)


@dataclass(frozen=True)
class LastTest:
    """The newest test send of an endpoint, as its row shows it beside the endpoint's health
    (a test never counts as a delivery of a real event)."""

    status_code: int | None
    latency_ms: int
    ok: bool
    error: str | None
    attempted_at: datetime


def latest_tests() -> dict[int, LastTest]:
    """Each endpoint's newest test send that has an attempt, by endpoint id."""
    with db.pooled_connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            """SELECT e.id AS endpoint_id, a.status_code, a.latency_ms, a.error, a.attempted_at
               FROM webhook_endpoints e
               CROSS JOIN LATERAL (
                   SELECT id FROM webhook_deliveries
                   WHERE endpoint_id = e.id AND is_test AND attempts > 0
                   ORDER BY id DESC LIMIT 1) d
               CROSS JOIN LATERAL (
                   SELECT status_code, latency_ms, error, attempted_at FROM webhook_attempts
                   WHERE delivery_id = d.id ORDER BY attempt DESC LIMIT 1) a"""
        ).fetchall()
    tests = {}
    for row in rows:
        endpoint_id = row.pop("endpoint_id")
        answered = AttemptResult(status_code=row["status_code"], latency_ms=row["latency_ms"])
        tests[endpoint_id] = LastTest(ok=answered.ok, **row)
    return tests


def _test_result(delivery_id: int, result: AttemptResult) -> TestResult:
    return TestResult(
        delivery_id=delivery_id,
        status_code=result.status_code,
        latency_ms=result.latency_ms,
        ok=result.ok,
        error=result.error,
    )
