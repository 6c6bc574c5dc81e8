"""Products' search and sort indexes that a big import set aside, recorded with their
definitions until they are built again in bulk (imports/deferred_indexes.py).

Revision ID: 0016_deferred_indexes
Revises: 0015_token_owners
Create Date: 2026-12-04
"""

from alembic import op

revision = "0016_deferred_indexes"
down_revision = "0015_token_owners"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE deferred_indexes (
            name text PRIMARY KEY,
            definition text NOT NULL,
            deferred_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE deferred_indexes")
