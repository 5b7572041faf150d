"""Closing reviews: each member's, once, when the relationship or its program ends.

Revision ID: session_0008
Revises: session_0007
"""

import sqlalchemy as sa
from alembic import op

revision = "session_0008"
down_revision = "session_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "closing_reviews",
        sa.Column("match_id", sa.String(128), sa.ForeignKey("relationships.match_id"), nullable=False),
        sa.Column("employee_id", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("satisfaction", sa.Integer(), nullable=False),
        sa.Column("goals_attained", sa.JSON(), nullable=False),
        sa.Column("benefits", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("match_id", "employee_id"),
    )
    op.create_index("ix_closing_reviews_employee", "closing_reviews", ["employee_id"])


def downgrade() -> None:
    op.drop_index("ix_closing_reviews_employee", "closing_reviews")
    op.drop_table("closing_reviews")
