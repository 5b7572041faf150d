"""E-mails keep what they are written from at send time (``context``: audience, facts, the other people
by id, the session of an invitation); each session's calendar entry and SEQUENCE.

Revision ID: notification_0004
Revises: notification_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "notification_0004"
down_revision = "notification_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("context", sa.JSON, nullable=True))
    op.create_table(
        "session_calendar",
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer, nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("cancelled", sa.Boolean, nullable=False),
        sa.Column("location", sa.Text, nullable=False),
        sa.Column("meeting_link", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("tenant", "session_id"),
    )


def downgrade() -> None:
    op.drop_table("session_calendar")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("context")
