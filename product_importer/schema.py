"""Every table the models declare, in one metadata: what the migrations must produce
(alembic's `target_metadata`; tests/test_schema.py compares the two)."""

from __future__ import annotations

from sqlmodel import SQLModel

from product_importer import models  # noqa: F401  (declares the catalog and job tables)
from product_importer.access import models as access_models  # noqa: F401  (users, sessions)

metadata = SQLModel.metadata
