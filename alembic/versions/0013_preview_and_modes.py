"""Imports that can be previewed before they apply, and import modes: what an import may
create or update, and what it does to the catalog's products missing from its file.

Revision ID: 0013_preview
Revises: 0012_apply_order
Create Date: 2026-12-04
"""

from alembic import op

revision = "0013_preview"
down_revision = "0012_apply_order"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE import_jobs
            ADD COLUMN mode text NOT NULL DEFAULT 'create_update',
            ADD COLUMN missing text NOT NULL DEFAULT 'leave',
            ADD COLUMN dry_run boolean NOT NULL DEFAULT false,
            ADD COLUMN preview_counts jsonb,
            ADD COLUMN preview_until timestamptz,
            ADD COLUMN skipped_existing integer NOT NULL DEFAULT 0,
            ADD COLUMN skipped_unknown integer NOT NULL DEFAULT 0,
            ADD COLUMN deactivated integer NOT NULL DEFAULT 0,
            ADD COLUMN deleted integer NOT NULL DEFAULT 0;
        CREATE INDEX import_jobs_previews ON import_jobs (preview_until)
            WHERE stage = 'previewed';
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX import_jobs_previews;
        ALTER TABLE import_jobs DROP COLUMN mode, DROP COLUMN missing, DROP COLUMN dry_run,
            DROP COLUMN preview_counts, DROP COLUMN preview_until,
            DROP COLUMN skipped_existing, DROP COLUMN skipped_unknown,
            DROP COLUMN deactivated, DROP COLUMN deleted;
        """
    )
