"""Matches and their mentees, matching runs (idempotent by request id), introductions; enrolment time.

Revision ID: matching_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "matching_0002"
down_revision = "matching_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("participants") as batch:
        batch.add_column(sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "matches",
        sa.Column("match_id", sa.String(64), primary_key=True),
        sa.Column("program_id", sa.String(128), nullable=False),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("mentor_enrollment_id", sa.String(128), nullable=False),
        sa.Column("mentor_employee_id", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("breakdown", sa.JSON, nullable=False),
        sa.Column("mentor_accepted", sa.Boolean, nullable=False),
        sa.Column("skill_area", sa.String(200), nullable=False),
        sa.Column("origin", sa.String(32), nullable=False),
        sa.Column("override_reason", sa.Text, nullable=False),
        sa.Column("override_by", sa.String(128), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("speed_round", sa.Integer, nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("respond_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.Text, nullable=False),
        sa.Column("ended_by", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_matches_program_status", "matches", ["program_id", "status"])
    op.create_index("ix_matches_mentor_status", "matches", ["mentor_employee_id", "status"])
    op.create_index("ix_matches_status_respond_by", "matches", ["status", "respond_by"])
    op.create_index("ix_matches_proposed", "matches", ["proposed_at", "match_id"])
    op.create_table(
        "match_members",
        sa.Column(
            "match_id",
            sa.String(64),
            sa.ForeignKey("matches.match_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("enrollment_id", sa.String(128), primary_key=True),
        sa.Column("employee_id", sa.String(128), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("accepted", sa.Boolean, nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_match_members_employee", "match_members", ["employee_id"])
    op.create_table(
        "matching_runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("program_id", sa.String(128), nullable=False),
        sa.Column("request_id", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("result", sa.LargeBinary, nullable=False),
        sa.UniqueConstraint("program_id", "request_id", name="uq_matching_runs_request"),
    )
    op.create_index("ix_matching_runs_program", "matching_runs", ["program_id"])
    op.create_table(
        "introductions",
        sa.Column("introduction_id", sa.String(64), primary_key=True),
        sa.Column("introducer_employee_id", sa.String(128), nullable=False),
        sa.Column("mentee_employee_id", sa.String(128), nullable=False),
        sa.Column("mentor_employee_id", sa.String(128), nullable=False),
        sa.Column("program_id", sa.String(128), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "introducer_employee_id",
            "mentee_employee_id",
            "mentor_employee_id",
            "program_id",
            name="uq_introductions_once",
        ),
    )
    op.create_index("ix_introductions_pair", "introductions", ["mentee_employee_id", "mentor_employee_id"])


def downgrade() -> None:
    op.drop_table("introductions")
    op.drop_table("matching_runs")
    op.drop_table("match_members")
    op.drop_table("matches")
    with op.batch_alter_table("participants") as batch:
        batch.drop_column("enrolled_at")
