"""Indexes for retention and erasure: inbox ids by when they were applied, outbox rows by subject.

Revision ID: messaging_0002
"""

from alembic import op

revision = "messaging_0002"
down_revision = "messaging_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_inbox_applied_at", "inbox", ["applied_at"])
    op.create_index("ix_outbox_subject", "outbox", ["ce_tenant", "ce_subject"])


def downgrade() -> None:
    op.drop_index("ix_outbox_subject", "outbox")
    op.drop_index("ix_inbox_applied_at", "inbox")
