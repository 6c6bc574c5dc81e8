"""The Dramatiq actor that sends one webhook delivery. A message carries the delivery id."""

from __future__ import annotations

import dramatiq

from product_importer import broker as _broker  # noqa: F401  (sets the broker first)
from product_importer.webhooks.delivery import attempt_delivery


# Dramatiq's own retries cover only our failures (database down): the receiver's failures
# are retried on the webhook schedule below, with every attempt logged.
@dramatiq.actor(
    queue_name="webhooks",
    max_retries=10,
    min_backoff=1_000,
    max_backoff=60_000,
    time_limit=10 * 60 * 1000,
)
def deliver_webhook(delivery_id: int) -> None:
    outcome = attempt_delivery(delivery_id)
    if outcome is not None and outcome.retry_in_s is not None:
        deliver_webhook.send_with_options(
            args=(delivery_id,), delay=max(0, round(outcome.retry_in_s * 1000))
        )
