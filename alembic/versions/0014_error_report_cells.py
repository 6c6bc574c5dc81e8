"""An error report a person can fix: each skipped row keeps its original values, and each
import the header of its file (its own names, in its order).

Revision ID: 0014_report_cells
Revises: 0013_preview
Create Date: 2026-12-05
"""

from alembic import op

revision = "0014_report_cells"
down_revision = "0013_preview"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE import_jobs ADD COLUMN header jsonb;
        ALTER TABLE import_row_errors ADD COLUMN cells jsonb;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE import_row_errors DROP COLUMN cells;
        ALTER TABLE import_jobs DROP COLUMN header;
        """
    )
