"""Sending one delivery: take it, make one attempt, log it, and decide what comes next.

A delivery row is the truth about what is owed; Dramatiq messages only say "look at
delivery N now". Taking a delivery is one UPDATE that only succeeds when the delivery is
due and nobody holds it, so a duplicate or early message is harmless, and a worker that
dies while sending leaves a lease that expires.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field

import psycopg
from psycopg.rows import dict_row

from product_importer import db
from product_importer.settings import settings
from product_importer.webhooks.sender import AttemptResult, send_webhook
from product_importer.webhooks.tables import DeliveryStatus

log = logging.getLogger(__name__)

# Retry delays are spread by this fraction either way, so that retries of many deliveries
# failing together do not hit the receiver in one burst.
JITTER = 0.1
# How long a worker may hold a delivery while sending before another may take it over.
LEASE_MARGIN_S = 30

_TAKE = """
UPDATE webhook_deliveries d SET status = 'sending',
    lease_until = now() + make_interval(secs => %(lease)s)
FROM webhook_endpoints e
WHERE d.id = %(id)s AND e.id = d.endpoint_id
  AND ((d.status = 'pending' AND d.next_attempt_at <= now())
       OR (d.status = 'sending' AND d.lease_until < now()))
RETURNING d.id, d.endpoint_id, d.event_type, d.message_id, d.body, d.is_test,
    d.schedule_step, e.url, e.enabled, e.disabled_reason, e.secret,
    CASE WHEN e.previous_secret_expires_at > now() THEN e.previous_secret END
        AS previous_secret
"""
_NOT_YET_DUE = """
SELECT extract(epoch FROM next_attempt_at - now())::float FROM webhook_deliveries
WHERE id = %s AND status = 'pending' AND next_attempt_at > now()
"""


@dataclass
class TakenDelivery:
    """A delivery this worker holds while it sends one attempt."""

    id: int
    endpoint_id: int
    event_type: str
    message_id: str
    body: str
    is_test: bool
    schedule_step: int
    url: str
    enabled: bool
    disabled_reason: str | None
    secret: str = field(repr=False)
    previous_secret: str | None = field(default=None, repr=False)

    @property
    def secrets(self) -> list[str]:
        """Every secret that signs: the current one and, for 24 h after a rotation, the old."""
        return [self.secret, *([self.previous_secret] if self.previous_secret else [])]


@dataclass(frozen=True)
class Outcome:
    """What happened to a delivery after an attempt; `retry_in_s` when another is due."""

    status: DeliveryStatus
    result: AttemptResult | None = None
    retry_in_s: float | None = None


def take_delivery(conn: psycopg.Connection, delivery_id: int) -> TakenDelivery | None:
    lease = settings.webhook_timeout_s + LEASE_MARGIN_S
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_TAKE, {"id": delivery_id, "lease": lease}).fetchone()
    conn.commit()
    return TakenDelivery(**row) if row else None


def retry_delay(step: int, retry_after_s: float | None) -> float | None:
    """Seconds until the next attempt after a failed attempt number `step` (0-based) of
    the schedule, or None when the schedule is used up. A Retry-After wins."""
    schedule = settings.webhook_retry_schedule
    if step >= len(schedule):
        return None
    if retry_after_s is not None:
        return retry_after_s
    return schedule[step] * random.uniform(1 - JITTER, 1 + JITTER)


# The attempt's log line and the delivery's next state, in one statement.
_LOG_ATTEMPT = """
WITH delivery AS (
    UPDATE webhook_deliveries SET attempts = attempts + 1, last_status_code = %(code)s,
        last_error = %(error)s, status = %(status)s, lease_until = NULL,
        finished_at = CASE WHEN %(status)s = 'pending' THEN NULL ELSE now() END,
        schedule_step = schedule_step + CASE WHEN %(status)s = 'pending' THEN 1 ELSE 0 END,
        next_attempt_at = CASE WHEN %(status)s = 'pending'
            THEN now() + make_interval(secs => %(delay)s) ELSE next_attempt_at END,
        enqueued_at = CASE WHEN %(status)s = 'pending' THEN now() ELSE enqueued_at END
    WHERE id = %(id)s
    RETURNING id, attempts
)
INSERT INTO webhook_attempts
    (delivery_id, attempt, status_code, latency_ms, response_excerpt, error)
SELECT id, attempts, %(code)s, %(latency)s, %(excerpt)s, %(error)s FROM delivery
"""


def _log_attempt(
    conn: psycopg.Connection, delivery_id: int, result: AttemptResult, outcome: Outcome
) -> None:
    conn.execute(
        _LOG_ATTEMPT,
        {
            "id": delivery_id,
            "code": result.status_code,
            "error": result.error,
            "latency": result.latency_ms,
            "excerpt": result.response_excerpt,
            "status": outcome.status,
            "delay": outcome.retry_in_s or 0.0,
        },
    )


def _note_endpoint_health(conn: psycopg.Connection, taken: TakenDelivery, r: AttemptResult) -> None:
    """Keep the endpoint's last status for the admin page. The row is written only when
    the news differs or is a second old: every delivery to a busy endpoint must not queue
    on this one row's lock."""
    conn.execute(
        """UPDATE webhook_endpoints SET last_status_code = %(code)s, last_error = %(error)s,
               last_attempt_at = now(),
               failure_streak = CASE WHEN %(ok)s THEN 0 ELSE failure_streak END
           WHERE id = %(id)s
             AND (last_status_code IS DISTINCT FROM %(code)s
                  OR last_error IS DISTINCT FROM %(error)s OR (%(ok)s AND failure_streak <> 0)
                  OR last_attempt_at IS NULL OR last_attempt_at < now() - interval '1 second')""",
        {"code": r.status_code, "error": r.error, "ok": r.ok, "id": taken.endpoint_id},
    )


def _disable(conn: psycopg.Connection, endpoint_id: int, reason: str) -> None:
    conn.execute(
        """UPDATE webhook_endpoints SET enabled = false, disabled_reason = %s,
               disabled_at = now(), updated_at = now()
           WHERE id = %s AND enabled""",
        (reason, endpoint_id),
    )


def _count_failed_event(conn: psycopg.Connection, endpoint_id: int, last_error: str) -> None:
    """One more event that failed for good; the streak reaching the limit disables."""
    limit = settings.webhook_disable_after
    conn.execute(
        """UPDATE webhook_endpoints SET failure_streak = failure_streak + 1,
               enabled = CASE WHEN failure_streak + 1 >= %(limit)s THEN false ELSE enabled END,
               disabled_reason = CASE WHEN enabled AND failure_streak + 1 >= %(limit)s
                   THEN %(reason)s ELSE disabled_reason END,
               disabled_at = CASE WHEN enabled AND failure_streak + 1 >= %(limit)s
                   THEN now() ELSE disabled_at END
           WHERE id = %(id)s""",
        {
            "limit": limit,
            "id": endpoint_id,
            "reason": f"disabled automatically: {limit} events in a row failed "
            f"(last error: {last_error})",
        },
    )


def next_step(taken: TakenDelivery, result: AttemptResult) -> Outcome:
    """What follows an attempt: success, a retry after some seconds, or failure for good."""
    if result.ok:
        return Outcome(DeliveryStatus.succeeded, result)
    if result.status_code == 410:
        return Outcome(DeliveryStatus.failed, result)
    delay = retry_delay(taken.schedule_step, result.retry_after_s)
    if delay is None:
        return Outcome(DeliveryStatus.failed, result)
    return Outcome(DeliveryStatus.pending, result, retry_in_s=delay)


def record_result(conn: psycopg.Connection, taken: TakenDelivery, result: AttemptResult) -> Outcome:
    """Log the attempt and move the delivery (and its endpoint's health) on, in one
    transaction. A test send never changes its endpoint."""
    outcome = next_step(taken, result)
    with conn.transaction():
        _log_attempt(conn, taken.id, result, outcome)
        if taken.is_test:
            return outcome
        # A success also resets the failure streak here.
        _note_endpoint_health(conn, taken, result)
        if result.status_code == 410:
            # The receiver says this endpoint is gone for good: stop sending to it at all.
            _disable(conn, taken.endpoint_id, "disabled: the receiver answered 410 Gone")
        elif outcome.status == DeliveryStatus.failed:
            _count_failed_event(conn, taken.endpoint_id, result.error or "no answer")
    return outcome


def attempt_delivery(delivery_id: int) -> Outcome | None:
    """Make the next attempt of a delivery if it is due and free; None when there was
    nothing to do. `Outcome.retry_in_s` says when to look again."""
    with db.pooled_connection() as conn:
        taken = take_delivery(conn, delivery_id)
        if taken is None:
            # A message that came early (clocks): look again when it is due.
            row = conn.execute(_NOT_YET_DUE, (delivery_id,)).fetchone()
            conn.rollback()
            return Outcome(DeliveryStatus.pending, retry_in_s=row[0]) if row else None
        if not taken.enabled:
            conn.execute(
                """UPDATE webhook_deliveries SET status = 'failed', finished_at = now(),
                       lease_until = NULL, last_error = %s
                   WHERE id = %s""",
                (f"not sent: the endpoint is disabled ({taken.disabled_reason})", taken.id),
            )
            conn.commit()
            return Outcome(DeliveryStatus.failed)
        result = send_webhook(
            taken.url, message_id=taken.message_id, body=taken.body, secrets=taken.secrets
        )
        outcome = record_result(conn, taken, result)
    log.info(
        "webhook delivery %s (%s) to endpoint %s: %s -> %s",
        taken.id,
        taken.event_type,
        taken.endpoint_id,
        result.status_code or result.error,
        outcome.status,
    )
    return outcome
