"""Imports apply one at a time, in the order their uploads were complete: each job gets its
place from a sequence when its upload commits.

Revision ID: 0012_apply_order
Revises: 0011_webhook_tests
Create Date: 2026-12-03
"""

from alembic import op

revision = "0012_apply_order"
down_revision = "0011_webhook_tests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE import_jobs ADD COLUMN apply_order bigint;
        UPDATE import_jobs SET apply_order = id;
        CREATE SEQUENCE import_apply_order;
        SELECT setval('import_apply_order', coalesce((SELECT max(id) FROM import_jobs), 0) + 1,
                      false);
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE import_jobs DROP COLUMN apply_order; DROP SEQUENCE import_apply_order")
