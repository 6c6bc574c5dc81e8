"""Entry point of a worker process: `dramatiq product_importer.worker`."""

import logging

from product_importer.broker import broker
from product_importer.imports import actors  # noqa: F401
from product_importer.products import actors as product_actors  # noqa: F401
from product_importer.webhooks import actors as webhook_actors  # noqa: F401
from product_importer.webhooks.relay import WebhookRelayMiddleware

# Every worker process also relays new domain events into webhook deliveries.
broker.add_middleware(WebhookRelayMiddleware())

# One INFO line per webhook request ("HTTP Request: POST ...") is noise in the console:
# every delivery attempt is in the deliveries log already. Warnings still show.
logging.getLogger("httpx").setLevel(logging.WARNING)
