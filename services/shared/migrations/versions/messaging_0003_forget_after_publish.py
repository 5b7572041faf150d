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
    # Partial: holds only the flagged rows (rare, and deleted once sent), so the relay's look-up is free.
    # Each dialect's predicate in the form SQLAlchemy renders the relay's query in, so that the planner
    # sees the query implies it.
    op.create_index(
        "ix_outbox_forget",
        "outbox",
        ["id"],
        sqlite_where=sa.text("forget_after_publish = 1"),
        postgresql_where=sa.text("forget_after_publish"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_forget", "outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("forget_after_publish")
