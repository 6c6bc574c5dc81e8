"""Imports account for every physical line of their file: how many lines it has, and how
many of them were blank (the others are the header and the lines of its rows).

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-02
"""

from alembic import op

revision = "0009"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE import_jobs
            ADD COLUMN file_lines integer NOT NULL DEFAULT 0,
            ADD COLUMN blank_lines integer NOT NULL DEFAULT 0;
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE import_jobs DROP COLUMN file_lines, DROP COLUMN blank_lines")
