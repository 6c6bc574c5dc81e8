"""Reading a product's fields from a form or a JSON body, with one message per bad field.

Pure: no database. The browser form (strings) and the API (JSON values) go through the
same rules, which are the CSV import's rules (`csvfile.row_problem`), so a product that
can be typed in can also be imported, and the other way round.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from product_importer.csvfile import price_problem
from product_importer.models import DESCRIPTION_MAX, NAME_MAX, SKU_MAX

EDITABLE_FIELDS = ("sku", "name", "description", "price", "active")
# Shown by the API and harmless to send back (a client may PUT what it got).
READ_ONLY_FIELDS = ("id", "created_at", "updated_at")
_ACTIVE_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


class ProductInvalid(ValueError):
    """Some fields are wrong: `errors` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))


@dataclass(frozen=True)
class ProductFields:
    """A product's editable fields, checked."""

    sku: str
    name: str
    description: str
    price: Decimal | None
    active: bool


def _text(value: Any, field: str, limit: int, *, required: bool, errors: dict[str, str]) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[field] = f"{field} must be text"
        return ""
    value = value.strip()
    if required and not value:
        errors[field] = f"{field} is required"
    elif len(value) > limit:
        errors[field] = f"{field} is longer than {limit} characters"
    return value


def _price(value: Any, errors: dict[str, str]) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        errors["price"] = "price must be a number >= 0"
        return None
    raw = value.strip() if isinstance(value, str) else str(value)
    problem = price_problem(raw)
    if problem:
        errors["price"] = problem
        return None
    return Decimal(raw).quantize(Decimal("0.01"))


def _active(value: Any, errors: dict[str, str]) -> bool:
    if value is None or isinstance(value, bool):
        return True if value is None else value
    word = value.strip().lower() if isinstance(value, str) else None
    if word == "":
        return True
    if word not in _ACTIVE_WORDS:
        errors["active"] = f"active {value!r} is not one of true/false/1/0/yes/no"
        return True
    return _ACTIVE_WORDS[word]


def parse_product(data: Mapping[str, Any], *, base: ProductFields | None = None) -> ProductFields:
    """Check `data` and answer the product's fields; raise ProductInvalid naming every bad
    field. With `base` (a partial update) fields missing from `data` keep base's values;
    without it, sku and name are required and the others default (no price, active)."""
    errors: dict[str, str] = {}
    for field in data:
        if field not in EDITABLE_FIELDS and field not in READ_ONLY_FIELDS:
            errors[field] = f"unknown field {field!r} (fields: {', '.join(EDITABLE_FIELDS)})"

    def given(field: str) -> bool:
        return base is None or field in data

    sku = _text(data.get("sku"), "sku", SKU_MAX, required=True, errors=errors)
    name = _text(data.get("name"), "name", NAME_MAX, required=True, errors=errors)
    description = _text(
        data.get("description"), "description", DESCRIPTION_MAX, required=False, errors=errors
    )
    price = _price(data.get("price"), errors)
    active = _active(data.get("active"), errors)
    if base is not None:
        # Only what was sent is checked and changed.
        for field in EDITABLE_FIELDS:
            if field not in data:
                errors.pop(field, None)
        sku = sku if given("sku") else base.sku
        name = name if given("name") else base.name
        description = description if given("description") else base.description
        price = price if given("price") else base.price
        active = active if given("active") else base.active
    if errors:
        raise ProductInvalid(errors)
    return ProductFields(sku=sku, name=name, description=description, price=price, active=active)
