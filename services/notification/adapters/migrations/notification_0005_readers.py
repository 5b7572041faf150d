"""What texts need to be understood: each recipient's language (a preference), each programme's format,
each participant's timezone from their enrolment.

Revision ID: notification_0005
Revises: notification_0004
"""

import sqlalchemy as sa
from alembic import op

revision = "notification_0005"
down_revision = "notification_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("preferences") as batch:
        batch.add_column(sa.Column("language", sa.String(16), nullable=False, server_default=""))
    with op.batch_alter_table("programs") as batch:
        batch.add_column(sa.Column("format", sa.String(16), nullable=False, server_default=""))
    op.create_table(
        "people",
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("employee_id", sa.String(128), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "employee_id"),
    )


def downgrade() -> None:
    op.drop_table("people")
    with op.batch_alter_table("programs") as batch:
        batch.drop_column("format")
    with op.batch_alter_table("preferences") as batch:
        batch.drop_column("language")
