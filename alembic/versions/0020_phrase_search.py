"""Phrase search: the name and description trigram indexes are built on the text with its
spaces swapped for a digit, so that their trigrams span the spaces of a phrase
(products/phrase_search.py says why, and why it stays exact).

Where pg_trgm is not installed there were no trigram indexes and there are none now. An
index that a big import has set aside (deferred_indexes) is not built here: its recorded
definition is replaced, and the rebuild after the import builds the new one.

Revision ID: 0020_phrase_search
Revises: 0019_import_before_images
Create Date: 2026-12-08
"""

from alembic import op
from sqlalchemy import text

revision = "0020_phrase_search"
down_revision = "0019_import_before_images"
branch_labels = None
depends_on = None

# (old index, new index, column); the expression is products.phrase_search's.
_INDEXES = (
    ("products_name_trgm", "products_name_phrase_trgm", "name"),
    ("products_description_trgm", "products_description_phrase_trgm", "description"),
)
_PHRASE = (
    "CREATE INDEX {name} ON public.products"
    " USING gin (translate({column}, ' 9', '9 ') gin_trgm_ops)"
)
_PLAIN = "CREATE INDEX {name} ON public.products USING gin ({column} gin_trgm_ops)"


def _replace(old: str, new: str, column: str, definition: str) -> None:
    bind = op.get_bind()
    recorded = bind.execute(
        text("DELETE FROM deferred_indexes WHERE name = :old RETURNING 1"), {"old": old}
    ).first()
    op.execute(f"DROP INDEX IF EXISTS {old}")
    if recorded:
        bind.execute(
            text("INSERT INTO deferred_indexes (name, definition) VALUES (:name, :definition)"),
            {"name": new, "definition": definition.format(name=new, column=column)},
        )
    else:
        op.execute("SET LOCAL maintenance_work_mem = '256MB'")
        op.execute(definition.format(name=new, column=column))


def _has_trigrams() -> bool:
    return bool(
        op.get_bind()
        .execute(text("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm')"))
        .scalar()
    )


def upgrade() -> None:
    if not _has_trigrams():
        return
    for old, new, column in _INDEXES:
        _replace(old, new, column, _PHRASE)
    # The planner's estimates for the new expressions come from statistics of their own.
    op.execute("ANALYZE products")


def downgrade() -> None:
    if not _has_trigrams():
        return
    for old, new, column in _INDEXES:
        _replace(new, old, column, _PLAIN)
