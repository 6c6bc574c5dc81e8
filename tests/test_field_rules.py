"""One rule per field: the CSV import, the product form / API body and the OpenAPI schema
agree on what is valid, and say it in the same words."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from product_importer import field_rules as rules
from product_importer.csvfile import row_problem
from product_importer.products.fields import ProductFields, ProductInvalid, parse_product

# Characters that make prices interesting; no exotic spaces (Python's strip and ECMA's \s
# disagree on a few control characters, which no client sends as a price).
PRICE_TEXT = st.text(alphabet="0123456789.-+e ,", max_size=16)


@given(PRICE_TEXT)
@example("0009999999999.99")
@example("12345678901")
@example(".")
@example("5.")
@example("1.500")
@settings(max_examples=500, deadline=None)
def test_the_schema_price_pattern_accepts_exactly_what_the_rule_accepts(price: str) -> None:
    accepted = rules.price_problem(price.strip()) is None
    assert bool(re.fullmatch(rules.PRICE_PATTERN, price, re.ASCII)) == accepted


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80))
@example("  ")
@example("X\x00Y")
@settings(max_examples=300, deadline=None)
def test_the_schema_text_patterns_accept_what_the_rules_accept(value: str) -> None:
    # The rules judge the trimmed value; the schema sees it as sent.
    if value != value.strip():
        return
    sku_ok = rules.sku_problem(value) is None
    schema_ok = re.fullmatch(rules.REQUIRED_TEXT_PATTERN, value) and 1 <= len(value) <= 64
    assert bool(schema_ok) == sku_ok
    description_ok = rules.description_problem(value) is None
    assert bool(re.fullmatch(rules.TEXT_PATTERN, value)) == description_ok


def test_the_openapi_schema_states_the_rules() -> None:
    schema = ProductFields.model_json_schema()
    sku, name, description = (schema["properties"][f] for f in ("sku", "name", "description"))
    assert (sku["maxLength"], name["maxLength"], description["maxLength"]) == (64, 255, 10_000)
    assert schema["required"] == ["sku", "name"]
    number, text, _ = schema["properties"]["price"]["anyOf"]
    assert (number["minimum"], number["multipleOf"]) == (0, 0.01)
    assert text["pattern"] == rules.PRICE_PATTERN
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("sku", "", "Enter a SKU."),
        ("sku", "S" * 65, "A SKU can have at most 64 characters (this one has 65)."),
        ("name", "", "Enter a name."),
        ("name", "N" * 256, "A name can have at most 255 characters (this one has 256)."),
        ("description", "D" * 10_001, "A description can have at most 10,000 characters"),
        ("price", "-3.5", "Price can't be negative."),
        ("price", "abc", "Enter the price as a number, like 19.99 (not 'abc')."),
        ("price", "1.999", "Price can have at most 2 decimal places (not '1.999')."),
        ("active", "maybe", "Active must be yes or no (or true/false, 1/0), not 'maybe'."),
    ],
)
def test_a_csv_row_and_a_form_get_the_same_words(field: str, value: str, words: str) -> None:
    row = {"sku": "S1", "name": "N", "description": "", "price": "", "active": "", field: value}
    assert (row_problem(**row) or "").startswith(words)
    with pytest.raises(ProductInvalid) as refused:
        parse_product(row)
    assert refused.value.errors[field].startswith(words)


def test_field_words_never_read_like_program_output() -> None:
    with pytest.raises(ProductInvalid) as refused:
        parse_product({"sku": "", "name": "", "price": "-1", "active": "x", "colour": 1})
    for message in refused.value.errors.values():
        assert message[0].isupper() and message.endswith("."), message
        assert ">=" not in message and "is required" not in message


def test_a_sku_clash_names_the_stored_spelling_never_an_id() -> None:
    assert rules.sku_taken("abc", "ABC") == (
        "Another product already has the SKU 'abc', written 'ABC' "
        "(SKUs are the same in any letter case)."
    )
    assert rules.sku_taken("ABC", "ABC") == "Another product already has the SKU 'ABC'."
