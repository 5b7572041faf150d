"""Every delivery attempt's outcome, for the delivery status.

Revision ID: notification_0003
Revises: notification_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "notification_0003"
down_revision = "notification_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_attempts",
        sa.Column("notification_id", sa.String(64), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("recipient_id", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("detail", sa.String(64), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("notification_id", "attempt"),
    )
    op.create_index("ix_delivery_attempts_recipient", "delivery_attempts", ["tenant", "recipient_id"])


def downgrade() -> None:
    op.drop_index("ix_delivery_attempts_recipient", "delivery_attempts")
    op.drop_table("delivery_attempts")
