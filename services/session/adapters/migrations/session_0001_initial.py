"""Session service tables: relationships, sessions, goals and progress, feedback.

Revision ID: session_0001
Revises: messaging_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "session_0001"
down_revision = "messaging_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "relationships",
        sa.Column("match_id", sa.String(128), primary_key=True),
        sa.Column("program_id", sa.String(128), nullable=False),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("mentor_id", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("end_reason", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "relationship_participants",
        sa.Column("match_id", sa.String(128), sa.ForeignKey("relationships.match_id"), nullable=False),
        sa.Column("employee_id", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("match_id", "employee_id"),
    )
    op.create_index("ix_relationship_participants_employee", "relationship_participants", ["employee_id"])
    op.create_table(
        "sessions",
        sa.Column("session_id", sa.String(64), primary_key=True),
        sa.Column("match_id", sa.String(128), sa.ForeignKey("relationships.match_id"), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer, nullable=False),
        sa.Column("agenda", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("cancel_reason", sa.Text, nullable=False),
        sa.Column("request_id", sa.String(128), nullable=True, unique=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sessions_match_start", "sessions", ["match_id", "starts_at"])
    op.create_table(
        "goals",
        sa.Column("match_id", sa.String(128), sa.ForeignKey("relationships.match_id"), nullable=False),
        sa.Column("goal_id", sa.String(128), nullable=False),
        sa.Column("what", sa.Text, nullable=False),
        sa.Column("metric", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("skill_tags", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("match_id", "goal_id"),
    )
    op.create_table(
        "goal_progress",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("match_id", sa.String(128), nullable=False),
        sa.Column("goal_id", sa.String(128), nullable=False),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["match_id", "goal_id"], ["goals.match_id", "goals.goal_id"]),
    )
    op.create_index("ix_goal_progress_goal", "goal_progress", ["match_id", "goal_id", "id"])
    op.create_table(
        "feedback",
        sa.Column("feedback_id", sa.String(64), primary_key=True),
        sa.Column("match_id", sa.String(128), nullable=False),
        sa.Column("session_id", sa.String(64), sa.ForeignKey("sessions.session_id"), nullable=False),
        sa.Column("employee_id", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("rating", sa.Integer, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("session_id", "employee_id", name="uq_feedback_session_author"),
    )


def downgrade() -> None:
    op.drop_table("feedback")
    op.drop_index("ix_goal_progress_goal", "goal_progress")
    op.drop_table("goal_progress")
    op.drop_table("goals")
    op.drop_index("ix_sessions_match_start", "sessions")
    op.drop_table("sessions")
    op.drop_index("ix_relationship_participants_employee", "relationship_participants")
    op.drop_table("relationship_participants")
    op.drop_table("relationships")
