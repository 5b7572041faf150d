"""Reminders still to fire before sessions.

Revision ID: notification_0007
Revises: notification_0006
"""

import sqlalchemy as sa
from alembic import op

revision = "notification_0007"
down_revision = "notification_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminders",
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("lead_hours", sa.Integer, nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("match_id", sa.String(128), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("tenant", "session_id", "lead_hours"),
    )
    op.create_index("ix_reminders_due", "reminders", ["due_at"])


def downgrade() -> None:
    op.drop_index("ix_reminders_due", "reminders")
    op.drop_table("reminders")
