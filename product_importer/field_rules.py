"""One rule per product field, in words a business user reads.

Every way a product comes in goes through these functions: CSV rows (`csvfile`), the
product form and the API bodies (`products.fields`, whose pydantic model calls them and
documents the same limits in the OpenAPI schema). Pure: no I/O. Each `*_problem`
function takes the value as text, already trimmed, and answers why it is not valid, or
None; the same message goes to the form, the API's 422 and the import's error report.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

SKU_MAX = 64
NAME_MAX = 255
DESCRIPTION_MAX = 10_000
PRICE_INTEGER_DIGITS = 10
PRICE_DECIMALS = 2
PRICE_MAX = Decimal("9999999999.99")
# `active` words in any letter case; blank means active. Besides yes/no in English,
# German, French, Spanish and Italian, the words shop systems write: Shopify's status
# (active/draft/archived), WooCommerce's published flag (1, 0, -1), enabled/disabled.
_ACTIVE_YES = (
    "true yes y 1 on active enabled enable published publish visible online "
    "ja wahr aktiv oui vrai actif si sí vero activo attivo"
)
_ACTIVE_NO = (
    "false no n 0 -1 off inactive disabled disable draft archived unpublished hidden "
    "offline nein falsch inaktiv non faux inactif falso inactivo inattivo"
)
ACTIVE_WORDS = {"": True} | dict.fromkeys(_ACTIVE_YES.split(), True)
ACTIVE_WORDS |= dict.fromkeys(_ACTIVE_NO.split(), False)
# A price's decimal separator, when a file's own style says which it is.
DECIMAL_SEPARATORS = (".", ",")
# The words of a price refused because it reads two ways ("1,299"): a preview counts its
# rows refused so and asks for the file's decimal separator.
AMBIGUOUS_PRICE_WORDS = "the file does not show whether a comma separates thousands or decimals"

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


# What may stand around a price's digits: currency signs (any Unicode currency symbol),
# currency codes, and spaces (also the no-break and thin spaces of French style).
_CURRENCY_CODE = re.compile(r"^(?:[A-Za-z]{3}\.?|Fr\.|kr)\s*|\s*(?:[A-Za-z]{3}|Fr\.|kr)\.?$")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")  # also the Swiss 1'299.00
_GROUPED = re.compile(r"[1-9][0-9]{0,2}(?:X[0-9]{3})+")


def _plain_number(text: str, decimal: str | None) -> tuple[str | None, str | None]:
    """`text` (signs and spaces gone) as digits with a point; or None and why not."""
    negative = text.startswith("-")
    body = text[1:] if negative else text
    if not body or not all(c.isdigit() and c.isascii() or c in ".," for c in body):
        return None, None
    points, commas = body.count("."), body.count(",")
    if points and commas:
        point = "." if body.rfind(".") > body.rfind(",") else ","
        thousands = "," if point == "." else "."
    elif points + commas == 0:
        return text, None
    else:
        sep = "." if points else ","
        whole, _, after = body.rpartition(sep)
        if points + commas > 1:  # 1.299.000: only thousands repeat
            point, thousands = ("," if sep == "." else "."), sep
        elif len(after) != 3 or not _GROUPED.fullmatch(whole + "X" + after):
            point, thousands = sep, ("," if sep == "." else ".")
        elif decimal is not None:
            point, thousands = decimal, ("," if decimal == "." else ".")
        elif sep == ".":
            point, thousands = ".", ","  # the form's and the API's reading, too
        else:
            return None, (
                f"The price {_shown(text)} could be {whole}{after} or {whole}.{after}: "
                f"{AMBIGUOUS_PRICE_WORDS}. Write "
                f"it as {whole}{after}.00 or {whole}.{after}, or choose the decimal separator "
                "for the file."
            )
    whole, _, fraction = body.rpartition(point) if point in body else (body, "", "")
    if thousands in whole:
        if not _GROUPED.fullmatch(whole.replace(thousands, "X")):
            return None, None
        whole = whole.replace(thousands, "")
    if thousands in fraction or point in whole:
        return None, None
    plain = whole + ("." + fraction if fraction else "")
    return ("-" if negative else "") + plain, None


def read_price(price: str, decimal: str | None = None) -> tuple[str, str | None]:
    """A price as shops write it ("12,50", "1.299,00", "$1,299.00", "12.50 EUR") as plain
    digits with a point, and why it cannot be stored (None when it can; empty is no
    price). `decimal` is the file's decimal separator where known: a lone separator
    before three digits ("1,299") is read by it, and without it a comma is refused as
    ambiguous."""
    if price_problem(price) is None:
        return price, None  # already plain: the common case, decided at once
    text = _SPACES.sub("", "".join(c for c in price if unicodedata.category(c) != "Sc"))
    text = _CURRENCY_CODE.sub("", text).strip()
    if text.startswith("+"):
        text = text[1:]
    plain, ambiguous = _plain_number(text, decimal)
    if ambiguous:
        return price, ambiguous
    if plain is None:
        return price, f"Enter the price as a number, like 19.99 (not {_shown(price)})."
    problem = price_problem(plain)
    if problem and plain != price:
        problem = problem.replace(_shown(plain), _shown(price))
    return plain, problem


def reads_by_style(price: str) -> bool:
    """Whether a price reads differently with a decimal point and with a decimal comma
    ("1,299", "1.299"; not "12,50" nor "9.99")."""
    if not price or price_problem(price) is None:
        return False  # plain digits with at most two decimals: the common case
    return read_price(price, ".") != read_price(price, ",")


def decimal_evidence(price: str) -> str | None:
    """The decimal separator a written price shows beyond doubt ("12,50" -> ","), or
    None ("1,299", "12", not a number)."""
    text = _SPACES.sub("", "".join(c for c in price if unicodedata.category(c) != "Sc"))
    text = _CURRENCY_CODE.sub("", text).strip().lstrip("+-")
    if not text or not all(c.isdigit() and c.isascii() or c in ".," for c in text):
        return None
    points, commas = text.count("."), text.count(",")
    if points and commas:
        return "." if text.rfind(".") > text.rfind(",") else ","
    if points + commas == 0:
        return None
    sep = "." if points else ","
    if points + commas > 1:
        return "," if sep == "." else "."
    whole, _, after = text.partition(sep)
    if len(after) != 3 or not _GROUPED.fullmatch(whole + "X" + after):
        return sep
    return None


def decimal_style(prices: list[str]) -> str | None:
    """The decimal separator of a file from some of its prices: the one they show, or
    None when they show none or both."""
    seen = {e for p in prices if (e := decimal_evidence(p)) is not None}
    return seen.pop() if len(seen) == 1 else None


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
