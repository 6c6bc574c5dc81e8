"""API tokens belong to the user who made them: deleted with that user, and never worth
more than that user's current role (access/tokens.py).

Tokens made before are matched to their maker by name; a token whose maker is no user now
(made on the command line, or by another token) stays without an owner and keeps its role.

Revision ID: 0015_token_owners
Revises: 0014_report_cells
Create Date: 2026-12-03
"""

from alembic import op

revision = "0015_token_owners"
down_revision = "0014_report_cells"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE api_tokens
            ADD COLUMN owner_id bigint REFERENCES users (id) ON DELETE CASCADE;
        CREATE INDEX api_tokens_owner_idx ON api_tokens (owner_id);
        UPDATE api_tokens t SET owner_id = u.id
            FROM users u WHERE lower(u.username) = lower(t.created_by);
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE api_tokens DROP COLUMN owner_id")
