"""Every table the models declare, in one metadata: what the migrations must produce
(alembic's `target_metadata`; tests/test_schema.py compares the two)."""

from __future__ import annotations

from sqlmodel import SQLModel

from product_importer import models  # noqa: F401  (declares the catalog and job tables)
from product_importer.access import models as access_models  # noqa: F401  (users, sessions)
from product_importer.events import table as events_table  # noqa: F401  (the outbox)
from product_importer.webhooks import tables as webhook_tables  # noqa: F401

metadata = SQLModel.metadata
