"""Cadence plans: each program's cadence, each participant's time zone and working hours (from their
enrolment), and each relationship's plan with its slots.

Revision ID: session_0005
Revises: session_0004
"""

import sqlalchemy as sa
from alembic import op

revision = "session_0005"
down_revision = "session_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("programs") as batch:
        batch.add_column(sa.Column("every_days", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("session_minutes", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "working_hours",
        sa.Column("program_id", sa.String(128), nullable=False),
        sa.Column("employee_id", sa.String(128), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("start_hour", sa.Integer(), nullable=False),
        sa.Column("end_hour", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("program_id", "employee_id"),
    )
    op.create_index("ix_working_hours_employee", "working_hours", ["employee_id"])
    op.create_table(
        "plans",
        sa.Column("match_id", sa.String(128), sa.ForeignKey("relationships.match_id"), primary_key=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("every_days", sa.Integer(), nullable=False),
        sa.Column("session_minutes", sa.Integer(), nullable=False),
        sa.Column("meetings", sa.Integer(), nullable=False),
        sa.Column("freq", sa.String(16), nullable=False),
        sa.Column("interval", sa.Integer(), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("by_day_nth", sa.Integer(), nullable=True),
        sa.Column("by_day_weekday", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "plan_slots",
        sa.Column("match_id", sa.String(128), sa.ForeignKey("plans.match_id"), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("occurrence", sa.DateTime(timezone=True), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("match_id", "idx"),
    )
    op.create_index("ix_plan_slots_starts", "plan_slots", ["starts_at"])


def downgrade() -> None:
    op.drop_index("ix_plan_slots_starts", "plan_slots")
    op.drop_table("plan_slots")
    op.drop_table("plans")
    op.drop_index("ix_working_hours_employee", "working_hours")
    op.drop_table("working_hours")
    with op.batch_alter_table("programs") as batch:
        batch.drop_column("session_minutes")
        batch.drop_column("every_days")
