"""The products changed since an import, as its revert sees them: a page at a time.

Before a revert, they are worked out from the before-images and the catalog now (what a
revert would leave alone); once a revert went through them, they are the ones it
recorded (and whether it restored them).
"""

from __future__ import annotations

from decimal import Decimal

from psycopg.rows import dict_row
from pydantic import BaseModel

from product_importer import db
from product_importer.imports.before_images import CHANGED_SINCE, CREATED_BY, CREATED_CHANGED
from product_importer.imports.kind import IMPORTS
from product_importer.jobs.store import JobNotFound

_CHANGES = {"c": "created", "u": "updated", "d": "deleted"}


class ProductValues(BaseModel):
    sku: str
    name: str
    description: str
    price: Decimal | None
    active: bool


class RevertConflict(BaseModel):
    """A product the import changed that was changed again since."""

    key: str
    # What the import did to it: created, updated or deleted.
    change: str
    # Its values before the import (null: the import created it).
    before: ProductValues | None
    # Its values now (null: it is gone).
    current: ProductValues | None
    # Whether the revert restored it (null: no revert went through it yet).
    restored: bool | None


class ConflictPage(BaseModel):
    items: list[RevertConflict]
    total: int
    page: int
    page_size: int


_BEFORE = (
    "b.sku AS b_sku, b.name AS b_name, b.description AS b_description, "
    "b.price AS b_price, b.active AS b_active"
)
_CURRENT = "p.sku, p.name, p.description, p.price, p.active"
_NO_BEFORE = (
    "NULL AS b_sku, NULL AS b_name, NULL AS b_description, "
    "NULL::numeric AS b_price, NULL::boolean AS b_active"
)
# Before a revert: the products changed since, worked out now.
_LIVE = f"""
SELECT b.key, b.change, {_BEFORE}, {_CURRENT}, NULL::boolean AS restored
FROM import_before_images b LEFT JOIN products p ON lower(p.sku) = b.key
WHERE b.job_id = %(import_id)s AND {CHANGED_SINCE}
UNION ALL
SELECT lower(p.sku), 'c', {_NO_BEFORE}, {_CURRENT}, NULL::boolean
FROM import_created_ranges r JOIN {CREATED_BY}
WHERE r.job_id = %(import_id)s AND {CREATED_CHANGED}
"""
# Once reverted: those its revert found.
_RECORDED = f"""
SELECT c.key, c.change, {_BEFORE}, {_CURRENT}, c.restored
FROM import_revert_conflicts c
LEFT JOIN import_before_images b ON b.job_id = %(import_id)s AND b.seq = c.seq
LEFT JOIN products p ON lower(p.sku) = c.key
WHERE c.revert_id = %(revert_id)s
"""


def _values(row: dict, prefix: str = "") -> ProductValues | None:
    if row[f"{prefix}sku"] is None:
        return None
    return ProductValues(
        sku=row[f"{prefix}sku"],
        name=row[f"{prefix}name"],
        description=row[f"{prefix}description"],
        price=row[f"{prefix}price"],
        active=row[f"{prefix}active"],
    )


def conflicts(
    import_id: int, revert_id: int | None, *, page: int = 1, page_size: int = 50
) -> ConflictPage:
    """A page of the import's conflicts, by key; raises JobNotFound."""
    source = _LIVE if revert_id is None else _RECORDED
    params = {
        "import_id": import_id,
        "revert_id": revert_id,
        "limit": page_size,
        "offset": (page - 1) * page_size,
    }
    with db.pooled_connection() as conn:
        if IMPORTS.select(conn, import_id) is None:
            raise JobNotFound(IMPORTS.label, import_id)
        total = int(db.scalar(conn, f"SELECT count(*) FROM ({source}) c", params))
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(
                f"SELECT * FROM ({source}) c ORDER BY key LIMIT %(limit)s OFFSET %(offset)s",
                params,
            ).fetchall()
    items = [
        RevertConflict(
            key=row["key"],
            change=_CHANGES[row["change"]],
            before=_values(row, "b_"),
            current=_values(row),
            restored=row["restored"],
        )
        for row in rows
    ]
    return ConflictPage(items=items, total=total, page=page, page_size=page_size)
