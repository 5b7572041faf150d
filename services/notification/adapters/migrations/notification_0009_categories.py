"""Channels per category: a person's own choice (preferences.categories) and the tenant's defaults.

Revision ID: notification_0009
Revises: notification_0008
"""

import sqlalchemy as sa
from alembic import op

revision = "notification_0009"
down_revision = "notification_0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("preferences") as batch:
        batch.add_column(sa.Column("categories", sa.JSON, nullable=False, server_default="{}"))
    op.create_table(
        "tenant_defaults",
        sa.Column("tenant", sa.String(128), primary_key=True),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("tenant_defaults")
    with op.batch_alter_table("preferences") as batch:
        batch.drop_column("categories")
