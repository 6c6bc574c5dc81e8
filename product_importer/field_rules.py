"""One rule per product field, in words a business user reads.

Every way a product comes in goes through these functions: CSV rows (`csvfile`), the
product form and the API bodies (`products.fields`, whose pydantic model calls them and
documents the same limits in the OpenAPI schema). Pure: no I/O. Each `*_problem`
function takes the value as text, already trimmed, and answers why it is not valid, or
None; the same message goes to the form, the API's 422 and the import's error report.
"""

from __future__ import annotations

from decimal import Decimal

SKU_MAX = 64
NAME_MAX = 255
DESCRIPTION_MAX = 10_000
PRICE_INTEGER_DIGITS = 10
PRICE_DECIMALS = 2
PRICE_MAX = Decimal("9999999999.99")
# `active` words in any letter case; blank means active.
ACTIVE_WORDS = {"": True, "true": True, "1": True, "yes": True}
ACTIVE_WORDS |= {"false": False, "0": False, "no": False}

# What the OpenAPI schema promises, as ECMA-262 patterns that Python's `re` reads alike
# (a test checks them against the rules below): no NUL anywhere, something besides spaces
# where a value is required; a price of digits with at most two decimals that count.
TEXT_PATTERN = r"^[^\u0000]*$"
REQUIRED_TEXT_PATTERN = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
PRICE_PATTERN = r"^\s*(?:(?=\.?[0-9])0*[0-9]{0,10}(?:\.[0-9]{0,2}0*)?)?\s*$"

_NUL = "\x00"


def _has_nul(label: str) -> str:
    return (
        f"{label} contains a NUL character (an invisible control character) that can't be stored."
    )


def _too_long(label: str, limit: int, length: int) -> str:
    return f"{label} can have at most {limit:,} characters (this one has {length:,})."


def _text_problem(value: str, noun: str, limit: int, *, missing: str | None) -> str | None:
    """The rule of every text field: `missing` when empty (None: may be empty), at most
    `limit` characters, no NUL."""
    if not value:
        return missing
    if len(value) > limit:
        return _too_long(f"A {noun}", limit, len(value))
    if _NUL in value:
        return _has_nul(f"The {noun}")
    return None


def sku_problem(sku: str) -> str | None:
    """Why a SKU cannot be stored, or None."""
    return _text_problem(sku, "SKU", SKU_MAX, missing="Enter a SKU.")


def name_problem(name: str) -> str | None:
    """Why a product name cannot be stored, or None."""
    return _text_problem(name, "name", NAME_MAX, missing="Enter a name.")


def description_problem(description: str) -> str | None:
    """Why a description cannot be stored, or None (it may be empty)."""
    return _text_problem(description, "description", DESCRIPTION_MAX, missing=None)


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "…")


def price_problem(price: str) -> str | None:
    """Why a price cannot be stored, or None. Empty means "no price" and is valid."""
    whole, _, fraction = price.partition(".")
    if len(whole) <= PRICE_INTEGER_DIGITS and len(fraction) <= PRICE_DECIMALS:
        digits = whole + fraction
        if digits.isascii() and digits.isdigit():
            return None  # the common case, decided at once
    negative = price.startswith("-")
    whole, _, fraction = (price[1:] if negative else price).partition(".")
    digits = whole + fraction
    if not (digits.isascii() and digits.isdigit()):
        if not price:
            return None
        return f"Enter the price as a number, like 19.99 (not {_shown(price)})."
    if negative:
        return "Price can't be negative."
    if len(whole) > PRICE_INTEGER_DIGITS and len(whole.lstrip("0")) > PRICE_INTEGER_DIGITS:
        return f"Price can be at most {PRICE_MAX:,}."
    if len(fraction) > PRICE_DECIMALS and len(fraction.rstrip("0")) > PRICE_DECIMALS:
        return f"Price can have at most {PRICE_DECIMALS} decimal places (not {_shown(price)})."
    return None


def parse_price(price: str) -> Decimal | None:
    """A valid price text as a Decimal with two places; None when empty."""
    return Decimal(price).quantize(Decimal("0.01")) if price else None


def active_problem(active: str) -> str | None:
    """Why an `active` word is not understood, or None."""
    if active.lower() in ACTIVE_WORDS:
        return None
    return f"Active must be yes or no (or true/false, 1/0), not {_shown(active)}."


def parse_active(active: str) -> bool:
    """A valid `active` word as a boolean (blank is active)."""
    return ACTIVE_WORDS[active.lower()]


def sku_taken(sku: str, existing_sku: str | None) -> str:
    """The words for a SKU that another product has (in any letter case)."""
    if existing_sku is not None and existing_sku != sku:
        return (
            f"Another product already has the SKU {sku!r}, written {existing_sku!r} "
            "(SKUs are the same in any letter case)."
        )
    return f"Another product already has the SKU {sku!r}."
