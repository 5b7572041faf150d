"""The health of each relationship: at risk or not, why (codes), since when, and when it started.

Revision ID: session_0006
Revises: session_0005
"""

import sqlalchemy as sa
from alembic import op

revision = "session_0006"
down_revision = "session_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "relationship_health",
        sa.Column("match_id", sa.String(128), sa.ForeignKey("relationships.match_id"), primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("at_risk", sa.String(1), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_relationship_health_at_risk", "relationship_health", ["at_risk", "match_id"])


def downgrade() -> None:
    op.drop_index("ix_relationship_health_at_risk", "relationship_health")
    op.drop_table("relationship_health")
