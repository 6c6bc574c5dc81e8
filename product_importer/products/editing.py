"""Creating, changing and deleting one product; each change records its domain event in
the same transaction, so an event exists exactly when its change was committed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg.rows import dict_row

from product_importer import db
from product_importer.events import EventType, record_event
from product_importer.events.payloads import ProductData
from product_importer.field_rules import sku_taken
from product_importer.models import Product
from product_importer.products.fields import ProductFields, parse_product

_COLUMNS = "id, sku, name, description, price, active, created_at, updated_at"
_SKU_INDEX = "products_sku_lower_key"


class ProductNotFound(LookupError):
    def __init__(self, product_id: int) -> None:
        self.product_id = product_id
        super().__init__(f"product {product_id} not found")


class SkuTaken(ValueError):
    """Another product already has this SKU in some letter case. The message names the
    SKU as stored, never the product's internal id."""

    def __init__(self, sku: str, existing: Product | None) -> None:
        self.sku = sku
        self.existing = existing
        super().__init__(sku_taken(sku, existing.sku if existing is not None else None))


def _fetch(conn: psycopg.Connection, query: str, params: tuple) -> Product | None:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(query, params).fetchone()
    return Product.model_validate(row) if row else None


def _by_sku(sku: str) -> Product | None:
    with db.pooled_connection() as conn:
        return _fetch(conn, f"SELECT {_COLUMNS} FROM products WHERE lower(sku) = lower(%s)", (sku,))


def _is_sku_clash(exc: psycopg.errors.UniqueViolation) -> bool:
    return exc.diag.constraint_name == _SKU_INDEX


def get_product(product_id: int) -> Product:
    with db.pooled_connection() as conn:
        product = _fetch(conn, f"SELECT {_COLUMNS} FROM products WHERE id = %s", (product_id,))
    if product is None:
        raise ProductNotFound(product_id)
    return product


def fields_of(product: Product) -> ProductFields:
    """A stored product's fields (stored values passed the rules when they were saved)."""
    return ProductFields.model_construct(
        sku=product.sku,
        name=product.name,
        description=product.description,
        price=product.price,
        active=product.active,
    )


def create_product(data: Mapping[str, Any]) -> Product:
    """Check and store a new product. Raises ProductInvalid or SkuTaken."""
    fields = parse_product(data)
    try:
        with db.pooled_connection() as conn:
            product = _fetch(
                conn,
                f"""INSERT INTO products (sku, name, description, price, active)
                    VALUES (%s, %s, %s, %s, %s) RETURNING {_COLUMNS}""",
                (fields.sku, fields.name, fields.description, fields.price, fields.active),
            )
            assert product is not None
            record_event(conn, EventType.product_created, ProductData.of(product))
            conn.commit()
    except psycopg.errors.UniqueViolation as exc:
        if not _is_sku_clash(exc):
            raise
        raise SkuTaken(fields.sku, _by_sku(fields.sku)) from exc
    return product


def update_product(product_id: int, data: Mapping[str, Any], *, partial: bool) -> Product:
    """Replace (PUT) or change some of (PATCH) a product's fields. Answers the product;
    an update that changes nothing writes nothing and records no event.
    Raises ProductNotFound, ProductInvalid or SkuTaken."""
    fields: ProductFields | None = None
    try:
        with db.pooled_connection() as conn:
            current = _fetch(
                conn,
                f"SELECT {_COLUMNS} FROM products WHERE id = %s FOR UPDATE",
                (product_id,),
            )
            if current is None:
                raise ProductNotFound(product_id)
            fields = parse_product(data, base=fields_of(current) if partial else None)
            if fields == fields_of(current):
                return current
            product = _fetch(
                conn,
                f"""UPDATE products SET sku = %s, name = %s, description = %s, price = %s,
                        active = %s, updated_at = now()
                    WHERE id = %s RETURNING {_COLUMNS}""",
                (
                    fields.sku,
                    fields.name,
                    fields.description,
                    fields.price,
                    fields.active,
                    product_id,
                ),
            )
            assert product is not None
            record_event(conn, EventType.product_updated, ProductData.of(product))
            conn.commit()
    except psycopg.errors.UniqueViolation as exc:
        if fields is None or not _is_sku_clash(exc):
            raise
        raise SkuTaken(fields.sku, _by_sku(fields.sku)) from exc
    return product


def delete_product(product_id: int) -> Product:
    """Delete a product; answers what it was. Raises ProductNotFound."""
    with db.pooled_connection() as conn:
        product = _fetch(
            conn, f"DELETE FROM products WHERE id = %s RETURNING {_COLUMNS}", (product_id,)
        )
        if product is None:
            raise ProductNotFound(product_id)
        record_event(conn, EventType.product_deleted, ProductData.of(product))
        conn.commit()
    return product
