"""What the session service keeps of programs (cohort dates, delivery), and each session's delivery.

Revision ID: session_0002
Revises: session_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "session_0002"
down_revision = "session_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "programs",
        sa.Column("program_id", sa.String(128), primary_key=True),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("cohort_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cohort_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivery", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("delivery", sa.String(16), nullable=False, server_default=""))
        batch.add_column(sa.Column("location", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("meeting_link", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("meeting_link")
        batch.drop_column("location")
        batch.drop_column("delivery")
    op.drop_table("programs")
