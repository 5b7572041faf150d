"""Notification service tables: deliveries, preferences, programmes, match participants.

Revision ID: notification_0001
Revises: messaging_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "notification_0001"
down_revision = "messaging_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("notification_id", sa.String(64), primary_key=True),
        sa.Column("recipient_id", sa.String(128), nullable=False),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.String(64), nullable=False),
        sa.Column("is_read", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_notifications_inbox", "notifications", ["recipient_id", "channel", "created_at"])
    op.create_index("ix_notifications_due", "notifications", ["state", "channel", "next_attempt_at"])
    op.create_table(
        "preferences",
        sa.Column("recipient_id", sa.String(128), primary_key=True),
        sa.Column("email", sa.Boolean, nullable=False),
        sa.Column("in_app", sa.Boolean, nullable=False),
        sa.Column("webhook_url", sa.Text, nullable=False),
        sa.Column("muted_templates", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "programs",
        sa.Column("program_id", sa.String(128), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
    )
    op.create_table(
        "match_participants",
        sa.Column("match_id", sa.String(128), nullable=False),
        sa.Column("employee_id", sa.String(128), nullable=False),
        sa.Column("audience", sa.String(16), nullable=False),
        sa.Column("program_id", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("match_id", "employee_id"),
    )
    op.create_index("ix_match_participants_employee", "match_participants", ["employee_id"])


def downgrade() -> None:
    op.drop_index("ix_match_participants_employee", "match_participants")
    op.drop_table("match_participants")
    op.drop_table("programs")
    op.drop_table("preferences")
    op.drop_index("ix_notifications_due", "notifications")
    op.drop_index("ix_notifications_inbox", "notifications")
    op.drop_table("notifications")
