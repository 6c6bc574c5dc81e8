"""The phrase form of the substring filters (products.phrase_search) matches exactly the
rows the plain `ILIKE` does, for any text and term: spaces, 9s, LIKE's wildcards, case,
and letters whose lower case depends on their neighbours (a final sigma under an ICU
collation). The list uses the phrase form only while its index is in place."""

from __future__ import annotations

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from product_importer.imports import deferred_indexes
from product_importer.products.listing import ProductFilter, like_pattern, list_products
from product_importer.products.phrase_search import phrase_indexed, swap

# Characters that could tell the two forms apart, and a few ordinary ones.
TRICKY = st.text(alphabet=" 9aAbqQΣσςİiI%_\\\t0", max_size=12)


def _collations(db: psycopg.Connection) -> list[str]:
    """The database's default collation, and an ICU one where the server has ICU."""
    icu = db.execute("SELECT collname FROM pg_collation WHERE collname = 'und-x-icu'").fetchone()
    return ["default", *(["und-x-icu"] if icu else [])]


@pytest.fixture
def compare(db: psycopg.Connection):
    collations = _collations(db)

    def both_forms(text: str, term: str) -> list[tuple[bool, bool]]:
        answers = []
        for collation in collations:
            query = sql.SQL(
                "SELECT %s::text COLLATE {c} ILIKE %s, "
                "translate(%s::text, ' 9', '9 ') COLLATE {c} ILIKE %s"
            ).format(c=sql.Identifier(collation))
            row = db.execute(query, (text, like_pattern(term), text, like_pattern(swap(term))))
            answers.append(tuple(row.fetchone()))
        return answers

    return both_forms


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=TRICKY, term=TRICKY.filter(str.strip))
def test_the_phrase_form_matches_the_rows_the_plain_form_does(compare, text, term) -> None:
    for plain, phrase in compare(text, term):
        assert plain == phrase, (text, term)


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("ΑΣ ΒΓ", "ας β"),  # a final sigma before a space
        ("size 9 shoe", "size 9"),
        ("size9 shoe", "size 9"),  # a 9 where the term has a space
        ("brass lamp glass", "lamp  glass"),  # two spaces are not one
        ("50% off_cut", "50% off_"),  # wildcards are literal
    ],
)
def test_the_cases_that_could_tell_the_forms_apart(compare, text, term) -> None:
    for plain, phrase in compare(text, term):
        assert plain == phrase, (text, term)


CATALOG = [
    ("P-1", "Oak Chair", "brass lamp glass shade"),
    ("P-2", "Oak  Chair", "brass lamp, glass shade"),
    ("P-3", "Oak9Chair", "brass9lamp glass"),
    ("P-4", "oak chair 9 legs", "BRASS LAMP GLASS"),
]


@pytest.fixture
def catalog(db: psycopg.Connection) -> None:
    db.cursor().executemany(
        "INSERT INTO products (sku, name, description, price, active) VALUES (%s, %s, %s, 1, true)",
        CATALOG,
    )


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (ProductFilter(description="brass lamp glass"), {"P-1", "P-4"}),
        (ProductFilter(name="oak chair"), {"P-1", "P-4"}),
        (ProductFilter(name="chair 9 legs"), {"P-4"}),
        (ProductFilter(q="oak9chair"), {"P-3"}),
        (ProductFilter(q="lamp, glass"), {"P-2"}),
    ],
)
def test_the_list_finds_phrases_with_and_without_the_phrase_indexes(
    db, catalog, filters, expected, low_threshold
) -> None:
    found = {p.sku for p in list_products(filters).items}
    assert found == expected
    if not phrase_indexed(db):
        pytest.skip("this PostgreSQL has no pg_trgm: there are no phrase indexes to set aside")
    with psycopg.connect(db.info.dsn, autocommit=True) as importing:
        assert deferred_indexes.set_aside(importing, 5000)
        assert phrase_indexed(db) == frozenset()  # the plain form while they are away
        assert {p.sku for p in list_products(filters).items} == expected
        # Built again but still recorded (not yet analysed): still the plain form.
        for (definition,) in db.execute(
            "SELECT definition FROM deferred_indexes WHERE name LIKE '%phrase%'"
        ).fetchall():
            db.execute(definition)
        assert phrase_indexed(db) == frozenset()
        assert {p.sku for p in list_products(filters).items} == expected
    assert deferred_indexes.rebuild() > 0
    assert phrase_indexed(db) == {"name", "description"}
