"""When and why each relationship ended (MatchEnded's cause), for the programs' outcome counts.

Revision ID: session_0007
Revises: session_0006
"""

import sqlalchemy as sa
from alembic import op

revision = "session_0007"
down_revision = "session_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "relationship_endings",
        sa.Column("match_id", sa.String(128), sa.ForeignKey("relationships.match_id"), primary_key=True),
        sa.Column("cause", sa.String(32), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("relationship_endings")
