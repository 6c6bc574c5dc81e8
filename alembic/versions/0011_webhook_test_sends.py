"""Each endpoint's newest test send is found without reading its real deliveries: the
Webhooks page shows it beside the endpoint's health.

Revision ID: 0011_webhook_tests
Revises: 0010_search
Create Date: 2026-12-03
"""

from alembic import op

revision = "0011_webhook_tests"
down_revision = "0010_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX webhook_deliveries_tests_idx ON webhook_deliveries (endpoint_id, id DESC)"
        " WHERE is_test"
    )


def downgrade() -> None:
    op.execute("DROP INDEX webhook_deliveries_tests_idx")
