"""A product as one line of the grid draws it, and the page's query parameters read."""

from __future__ import annotations

import dataclasses

from product_importer.models import Product
from product_importer.ui.times import shown_time

# Characters of a description the grid shows (the rest is in the tooltip / form).
DESCRIPTION_SHOWN = 90


@dataclasses.dataclass
class ProductRow:
    """One line of the grid, ready to draw."""

    product_id: int = 0
    sku: str = ""
    name: str = ""
    description: str = ""
    price: str = ""
    active: bool = True
    updated: str = ""


def row_of(product: Product) -> ProductRow:
    description = product.description
    if len(description) > DESCRIPTION_SHOWN:
        description = description[: DESCRIPTION_SHOWN - 1].rstrip() + "…"
    return ProductRow(
        product_id=int(product.id or 0),
        sku=product.sku,
        name=product.name,
        description=description,
        price="—" if product.price is None else f"{product.price:,.2f}",
        active=product.active,
        updated=shown_time(product.updated_at),
    )


def active_flag(choice: str) -> bool | None:
    return {"active": True, "inactive": False}.get(choice)


def int_param(raw: str | None, default: int, allowed: tuple[int, ...] | None = None) -> int:
    try:
        value = int(raw or default)
    except ValueError:
        return default
    if value < 1 or (allowed is not None and value not in allowed):
        return default
    return value
