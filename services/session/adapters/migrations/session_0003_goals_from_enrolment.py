"""Goals the mentees declared at enrolment (carried into each relationship when it starts), and who
made each check-in.

Revision ID: session_0003
Revises: session_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "session_0003"
down_revision = "session_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "enrolment_goals",
        sa.Column("program_id", sa.String(128), nullable=False),
        sa.Column("employee_id", sa.String(128), nullable=False),
        sa.Column("goals", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("program_id", "employee_id"),
    )
    op.create_index("ix_enrolment_goals_employee", "enrolment_goals", ["employee_id"])
    with op.batch_alter_table("goal_progress") as batch:
        batch.add_column(sa.Column("recorded_by", sa.String(128), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("goal_progress") as batch:
        batch.drop_column("recorded_by")
    op.drop_index("ix_enrolment_goals_employee", "enrolment_goals")
    op.drop_table("enrolment_goals")
