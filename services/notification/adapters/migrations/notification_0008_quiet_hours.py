"""Quiet hours per recipient (HH:MM start and end in their timezone; both empty: none).

Revision ID: notification_0008
Revises: notification_0007
"""

import sqlalchemy as sa
from alembic import op

revision = "notification_0008"
down_revision = "notification_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("preferences") as batch:
        batch.add_column(sa.Column("quiet_start", sa.String(8), nullable=False, server_default=""))
        batch.add_column(sa.Column("quiet_end", sa.String(8), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("preferences") as batch:
        batch.drop_column("quiet_end")
        batch.drop_column("quiet_start")
