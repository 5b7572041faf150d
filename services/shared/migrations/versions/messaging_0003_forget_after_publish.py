"""Outbox rows to delete as soon as they are published (about a person erased while they waited).

Revision ID: messaging_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "messaging_0003"
down_revision = "messaging_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("forget_after_publish", sa.Boolean, nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("forget_after_publish")
