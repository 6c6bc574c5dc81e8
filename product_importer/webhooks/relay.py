"""The outbox relay: a thread in every worker process that LISTENs for new events.

PostgreSQL announces an event (`pg_notify('events', id)`) only when its transaction
commits; the relay then fans out every event not fanned out yet (see `fanout`). It also
sweeps on start and every `SWEEP_INTERVAL_S`, which catches events recorded while no relay
listened and deliveries whose message was lost. Several worker processes each run a relay;
row locks with SKIP LOCKED make them share the work, never repeat it.
"""

from __future__ import annotations

import logging
import threading
import time

import dramatiq

from product_importer import db
from product_importer.events import NOTIFY_CHANNEL
from product_importer.webhooks.fanout import fan_out_pending, requeue_overdue

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 30.0
# How long the loop waits for a notification before it checks whether to stop or sweep.
LISTEN_TIMEOUT_S = 1.0
RECONNECT_DELAY_S = 2.0


def enqueue_deliveries(delivery_ids: list[int]) -> None:
    from product_importer.webhooks.actors import deliver_webhook

    for delivery_id in delivery_ids:
        deliver_webhook.send(delivery_id)


class Relay:
    """LISTEN, fan out, sweep; until `stop()`."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhook-relay", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception:
                log.exception("webhook relay lost its connection; reconnecting")
                self._stop.wait(RECONNECT_DELAY_S)

    def _listen(self) -> None:
        with db.connect(autocommit=True) as conn:
            conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
            last_sweep = 0.0
            while not self._stop.is_set():
                # LISTEN is in place before this sweep, so no event falls in between.
                fan_out_pending(conn, enqueue_deliveries)
                if time.monotonic() - last_sweep >= SWEEP_INTERVAL_S:
                    requeued = requeue_overdue(conn, enqueue_deliveries)
                    if requeued:
                        log.warning("queued %s overdue webhook deliveries again", requeued)
                    last_sweep = time.monotonic()
                # Any number of notifications collapse into one fan-out.
                for _ in conn.notifies(timeout=LISTEN_TIMEOUT_S, stop_after=1):
                    pass


class WebhookRelayMiddleware(dramatiq.Middleware):
    """Runs a `Relay` in each worker process, from boot to shutdown."""

    def __init__(self) -> None:
        self.relay: Relay | None = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self.relay = Relay()
        self.relay.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if self.relay is not None:
            self.relay.stop()
