"""Reading a product's fields from a form or a JSON body, with one message per bad field.

Pure: no database. `ProductFields` is a pydantic model whose validators call the field
rules (`field_rules`), the same functions the CSV import checks its rows with; its JSON
schema (the API's documented body) states the same limits. So a product that can be
typed in can also be imported, and the other way round, and the words are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, WithJsonSchema
from pydantic_core import PydanticCustomError

from product_importer import field_rules as rules

EDITABLE_FIELDS = ("sku", "name", "description", "price", "active")
# Shown by the API and harmless to send back (a client may PUT what it got).
READ_ONLY_FIELDS = ("id", "created_at", "updated_at")
LABELS = {"sku": "SKU", "name": "Name", "description": "Description", "price": "Price"}
LABELS["active"] = "Active"


class ProductInvalid(ValueError):
    """Some fields are wrong: `errors` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))


def _refuse(message: str) -> PydanticCustomError:
    # The rule's own words, not pydantic's: the form and the API show them as they are.
    return PydanticCustomError("field_rule", message)  # type: ignore[arg-type]


def _text_rule(field: str, problem: Callable[[str], str | None]) -> BeforeValidator:
    def check(value: Any) -> str:
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise _refuse(f"{LABELS[field]} must be text.")
        value = value.strip()
        if message := problem(value):
            raise _refuse(message)
        return value

    return BeforeValidator(check)


def _price_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise _refuse("Enter the price as a number, like 19.99.")
    # A JSON number in plain digits (1e3 is 1000, not a word the rule cannot read).
    return format(Decimal(repr(value)) if isinstance(value, float) else Decimal(value), "f")


def _check_price(value: Any) -> Decimal | None:
    text = _price_text(value)
    if message := rules.price_problem(text):
        raise _refuse(message)
    return rules.parse_price(text)


def _check_active(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise _refuse("Active must be true or false.")
    word = value.strip()
    if message := rules.active_problem(word):
        raise _refuse(message)
    return rules.parse_active(word)


_PRICE_SCHEMA = {
    "anyOf": [
        {
            "type": "number",
            "minimum": 0,
            "maximum": float(rules.PRICE_MAX),
            "multipleOf": 0.01,
        },
        {"type": "string", "pattern": rules.PRICE_PATTERN},
        {"type": "null"},
    ],
    "description": "A decimal >= 0 with at most two decimal places (a JSON number or a "
    'string such as "19.90"); null or "" for no price.',
    "examples": ["19.90"],
}
_ACTIVE_SCHEMA = {
    "anyOf": [
        {"type": "boolean"},
        {"type": "string", "enum": sorted(rules.ACTIVE_WORDS)},
        {"type": "null"},
    ],
    "description": "true or false; also the words true/false/yes/no/1/0 in any letter "
    "case (blank or null = true).",
    "default": True,
}

Sku = Annotated[
    str,
    Field(
        min_length=1,
        max_length=rules.SKU_MAX,
        pattern=rules.REQUIRED_TEXT_PATTERN,
        description="Unique in any letter case; spaces around it are dropped.",
        examples=["SKU-0001"],
    ),
    _text_rule("sku", rules.sku_problem),
]
Name = Annotated[
    str,
    Field(
        min_length=1,
        max_length=rules.NAME_MAX,
        pattern=rules.REQUIRED_TEXT_PATTERN,
        description="Spaces around it are dropped.",
    ),
    _text_rule("name", rules.name_problem),
]
Description = Annotated[
    str,
    Field(max_length=rules.DESCRIPTION_MAX, pattern=rules.TEXT_PATTERN),
    _text_rule("description", rules.description_problem),
]
Price = Annotated[Decimal | None, WithJsonSchema(_PRICE_SCHEMA), BeforeValidator(_check_price)]
Active = Annotated[bool, WithJsonSchema(_ACTIVE_SCHEMA), BeforeValidator(_check_active)]


class ProductFields(BaseModel):
    """A product's editable fields, checked: the body of POST and PUT."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="ProductIn")

    sku: Sku
    name: Name
    description: Description = ""
    price: Price = None
    active: Active = True


def _message(error: Mapping[str, Any]) -> tuple[str, str]:
    """A pydantic error as (field, words for a person)."""
    field = str(error["loc"][0]) if error["loc"] else "body"
    kind = error["type"]
    if kind == "missing":
        check = {"sku": rules.sku_problem, "name": rules.name_problem}.get(field)
        return field, (check("") if check else None) or f"{LABELS.get(field, field)} is missing."
    if kind == "extra_forbidden":
        return field, f"Unknown field {field!r}. The fields are: {', '.join(EDITABLE_FIELDS)}."
    return field, error["msg"]


def parse_product(data: Mapping[str, Any], *, base: ProductFields | None = None) -> ProductFields:
    """Check `data` and answer the product's fields; raise ProductInvalid naming every bad
    field. With `base` (a partial update) fields missing from `data` keep base's values;
    without it, sku and name are required and the others default (no price, active)."""
    sent = {k: v for k, v in data.items() if k not in READ_ONLY_FIELDS}
    values = {**base.model_dump(), **sent} if base is not None else sent
    try:
        return ProductFields.model_validate(values)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            field, message = _message(error)
            errors.setdefault(field, message)
        raise ProductInvalid(errors) from None
