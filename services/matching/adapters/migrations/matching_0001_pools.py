"""Candidate pools: programs and participants as the enrollment service published them.

Revision ID: matching_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "matching_0001"
down_revision = "messaging_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "programs",
        sa.Column("program_id", sa.String(128), primary_key=True),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("program", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "participants",
        sa.Column("enrollment_id", sa.String(128), primary_key=True),
        sa.Column("program_id", sa.String(128), nullable=False, index=True),
        sa.Column("employee_id", sa.String(128), nullable=False, index=True),
        sa.Column("role", sa.Integer, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("participant", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("participants")
    op.drop_table("programs")
