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
from product_importer.imports.before_images import CHANGED_SINCE
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


_SELECT = """
SELECT b.key, b.change, b.sku AS b_sku, b.name AS b_name, b.description AS b_description,
       b.price AS b_price, b.active AS b_active, p.sku, p.name, p.description, p.price,
       p.active, {restored} AS restored
"""
_LIVE = f"""
FROM import_before_images b LEFT JOIN products p ON lower(p.sku) = b.key
WHERE b.job_id = %(import_id)s AND {CHANGED_SINCE}
"""
_RECORDED = """
FROM import_revert_conflicts c
JOIN import_before_images b ON b.job_id = %(import_id)s AND b.seq = c.seq
LEFT JOIN products p ON lower(p.sku) = b.key
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
    """A page of the import's conflicts (in the order of its batches); raises
    JobNotFound."""
    source, restored = (_LIVE, "NULL::boolean") if revert_id is None else (_RECORDED, "c.restored")
    params = {
        "import_id": import_id,
        "revert_id": revert_id,
        "limit": page_size,
        "offset": (page - 1) * page_size,
    }
    with db.pooled_connection() as conn:
        if IMPORTS.select(conn, import_id) is None:
            raise JobNotFound(IMPORTS.label, import_id)
        total = int(db.scalar(conn, "SELECT count(*) " + source, params))
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(
                _SELECT.format(restored=restored)  # type: ignore[arg-type]
                + source
                + " ORDER BY b.seq LIMIT %(limit)s OFFSET %(offset)s",
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
