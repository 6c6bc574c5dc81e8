"""Entry point of a worker process: `dramatiq product_importer.worker`."""

from product_importer import broker  # noqa: F401
from product_importer.imports import actors  # noqa: F401
from product_importer.products import actors as product_actors  # noqa: F401
