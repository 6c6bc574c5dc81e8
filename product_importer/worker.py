"""Entry point of a worker process: `dramatiq product_importer.worker`."""

from product_importer.broker import broker
from product_importer.imports import actors  # noqa: F401
from product_importer.products import actors as product_actors  # noqa: F401
from product_importer.webhooks import actors as webhook_actors  # noqa: F401
from product_importer.webhooks.relay import WebhookRelayMiddleware

# Every worker process also relays new domain events into webhook deliveries.
broker.add_middleware(WebhookRelayMiddleware())
