"""Per-person keys for crypto-shredding: the HRIS dead letters about a person are sealed under their key,
and the erasure deletes it (see services/shared/personal_keys.py).

Revision ID: enrollment_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "enrollment_0002"
down_revision = "enrollment_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "personal_keys",
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("key", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "subject"),
    )


def downgrade() -> None:
    op.drop_table("personal_keys")
