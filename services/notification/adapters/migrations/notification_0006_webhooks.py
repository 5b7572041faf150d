"""The webhook channel: each endpoint's format (standard, slack, teams) and signing secrets.

Revision ID: notification_0006
Revises: notification_0005
"""

import sqlalchemy as sa
from alembic import op

revision = "notification_0006"
down_revision = "notification_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("preferences") as batch:
        batch.add_column(
            sa.Column("webhook_format", sa.String(16), nullable=False, server_default="standard")
        )
        batch.add_column(sa.Column("webhook_secret", sa.String(128), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("webhook_previous_secret", sa.String(128), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("preferences") as batch:
        batch.drop_column("webhook_previous_secret")
        batch.drop_column("webhook_secret")
        batch.drop_column("webhook_format")
