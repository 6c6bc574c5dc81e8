"""The outbox relay's work: turn recorded events into deliveries, exactly once.

An event is fanned out in one transaction: its row is locked (FOR UPDATE SKIP LOCKED, so
several relays split the work instead of repeating it), one delivery is inserted per
enabled endpoint subscribed to its type, and the event is marked `fanned_out_at`. The
unique (event, endpoint) index makes a repeat impossible even by mistake. Messages for the
new deliveries are sent after the commit; should that fail, `requeue_overdue` finds them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from product_importer.webhooks.endpoints import subscribes

# Events taken per transaction.
FAN_OUT_BATCH = 500
# A due delivery nobody has looked at for this long lost its message (e.g. Redis restarted
# empty): it is queued again. Duplicates are harmless, so this only bounds the delay.
REQUEUE_AFTER_S = 120

Enqueue = Callable[[list[int]], None]


def new_message_id(*, test: bool = False) -> str:
    """A `webhook-id`: unique per delivery, the same for all its attempts. A test event's
    starts with `msg_test_`: its data is a sample, shaped exactly like a real event's."""
    return ("msg_test_" if test else "msg_") + uuid.uuid4().hex


def event_body(event_type: str, created_at: datetime, data: dict[str, Any]) -> str:
    """The JSON a receiver gets: `{"type", "timestamp", "data"}`."""
    timestamp = created_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return json.dumps(
        {"type": event_type, "timestamp": timestamp, "data": data},
        separators=(",", ":"),
        default=str,
    )


def fan_out_batch(conn: psycopg.Connection, limit: int = FAN_OUT_BATCH) -> tuple[int, list[int]]:
    """Fan out up to `limit` events nobody has fanned out; answer how many events were
    taken and the ids of the deliveries created (committed when this returns)."""
    with conn.transaction():
        events = conn.execute(
            """SELECT id, type, data, created_at FROM events WHERE fanned_out_at IS NULL
               ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED""",
            (limit,),
        ).fetchall()
        if not events:
            return 0, []
        endpoints = conn.execute(
            "SELECT id, events FROM webhook_endpoints WHERE enabled ORDER BY id"
        ).fetchall()
        rows = [
            (endpoint_id, event_id, event_type, new_message_id(), event_body(event_type, at, data))
            for event_id, event_type, data, at in events
            for endpoint_id, subscribed in endpoints
            if subscribes(subscribed, event_type)
        ]
        created: list[int] = []
        if rows:
            with conn.cursor() as cur:
                cur.executemany(
                    """INSERT INTO webhook_deliveries
                           (endpoint_id, event_id, event_type, message_id, body, enqueued_at)
                       VALUES (%s, %s, %s, %s, %s, now())
                       ON CONFLICT DO NOTHING RETURNING id""",
                    rows,
                    returning=True,
                )
                while True:
                    created.extend(row[0] for row in cur.fetchall())
                    if not cur.nextset():
                        break
        conn.execute(
            "UPDATE events SET fanned_out_at = now() WHERE id = ANY(%s)",
            ([event_id for event_id, *_ in events],),
        )
    return len(events), created


def fan_out_pending(conn: psycopg.Connection, enqueue: Enqueue) -> int:
    """Fan out every event waiting, queueing each new delivery; answer how many events."""
    total = 0
    while True:
        taken, created = fan_out_batch(conn)
        if created:
            enqueue(created)
        total += taken
        if taken == 0:
            return total


def requeue_overdue(conn: psycopg.Connection, enqueue: Enqueue) -> int:
    """Queue again deliveries that are due but whose message went missing: pending and
    overdue, or held by a worker whose lease ran out long ago."""
    with conn.transaction():
        ids = [
            row[0]
            for row in conn.execute(
                """SELECT id FROM webhook_deliveries
                   WHERE (status = 'pending' AND next_attempt_at < %(before)s
                          AND coalesce(enqueued_at, '-infinity') < %(before)s)
                      OR (status = 'sending' AND lease_until < %(before)s)
                   ORDER BY id LIMIT 1000 FOR UPDATE SKIP LOCKED""",
                {"before": datetime.now(UTC) - timedelta(seconds=REQUEUE_AFTER_S)},
            ).fetchall()
        ]
        if ids:
            conn.execute(
                "UPDATE webhook_deliveries SET enqueued_at = now() WHERE id = ANY(%s)", (ids,)
            )
    if ids:
        enqueue(ids)
    return len(ids)
