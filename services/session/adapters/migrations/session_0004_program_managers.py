"""Who manages each program (ProgramCreated/Updated's manager_ids): the program managers who may list
its sessions' statuses and times.

Revision ID: session_0004
Revises: session_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "session_0004"
down_revision = "session_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("programs") as batch:
        batch.add_column(sa.Column("manager_ids", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("programs") as batch:
        batch.drop_column("manager_ids")
