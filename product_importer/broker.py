"""The Dramatiq broker on Redis. Imported before any actor is declared."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage

from product_importer.settings import settings

# Every fetch also looks for dead workers and puts their unfinished messages back on the
# queue. Dramatiq's default (one fetch in a thousand) left a killed worker's import
# waiting one to five minutes after the heartbeat timeout; the look is a range query on
# one sorted set per fetch, so the recovery bound is the heartbeat timeout itself.
_MAINTENANCE_ALWAYS = 1_000_000
# An idle worker polls Redis at least this often (Dramatiq backs off to 1 s otherwise,
# which would add up to a second between an upload and the start of its import).
IDLE_POLL_MS = 100


class QuickPollRedisBroker(RedisBroker):
    """A Redis broker whose idle consumers look for new messages every 100 ms."""

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000):
        return super().consume(queue_name, prefetch, min(timeout, IDLE_POLL_MS))


def _make_broker() -> RedisBroker:
    heartbeat_ms = settings.worker_heartbeat_timeout_s * 1000
    broker = QuickPollRedisBroker(
        url=settings.require_redis_url(),
        namespace=f"{settings.redis_namespace}:dramatiq",
        heartbeat_timeout=heartbeat_ms,
        maintenance_chance=_MAINTENANCE_ALWAYS,
    )
    broker.add_middleware(CurrentMessage())
    return broker


broker = _make_broker()
dramatiq.set_broker(broker)
