"""A program's managers: the employee ids of the program managers who run it (none: HR alone).

Revision ID: enrollment_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "enrollment_0003"
down_revision = "enrollment_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("programs") as batch:
        batch.add_column(sa.Column("manager_ids", sa.JSON, nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table("programs") as batch:
        batch.drop_column("manager_ids")
