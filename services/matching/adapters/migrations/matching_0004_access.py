"""Access: the managers of each program (Program.manager_ids, kept from ProgramCreated/ProgramUpdated), and
the tenant of each introduction (employee ids are unique only within a tenant).

Programs stored before carry no managers (run by HR alone) until enrollment publishes them again. An
introduction takes the tenant of its program, or, for one without a program, of the mentee's enrolments.

Revision ID: matching_0004
"""

import sqlalchemy as sa
from alembic import op

revision = "matching_0004"
down_revision = "matching_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "program_managers",
        sa.Column("program_id", sa.String(128), primary_key=True),
        sa.Column("employee_id", sa.String(128), primary_key=True),
        sa.Column("tenant", sa.String(128), nullable=False),
    )
    op.create_index("ix_program_managers_manager", "program_managers", ["tenant", "employee_id"])
    op.add_column("introductions", sa.Column("tenant", sa.String(128), nullable=False, server_default=""))
    op.execute(
        "UPDATE introductions SET tenant = coalesce(("
        "SELECT p.tenant FROM programs p WHERE p.program_id = introductions.program_id), '') "
        "WHERE program_id <> ''"
    )
    op.execute(
        "UPDATE introductions SET tenant = coalesce(("
        "SELECT min(p.tenant) FROM participants pa JOIN programs p ON p.program_id = pa.program_id "
        "WHERE pa.employee_id = introductions.mentee_employee_id), '') "
        "WHERE tenant = ''"
    )
    op.drop_index("ix_introductions_pair", "introductions")
    op.create_index(
        "ix_introductions_pair", "introductions", ["tenant", "mentee_employee_id", "mentor_employee_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_introductions_pair", "introductions")
    with op.batch_alter_table("introductions") as batch:
        batch.drop_column("tenant")
    op.create_index("ix_introductions_pair", "introductions", ["mentee_employee_id", "mentor_employee_id"])
    op.drop_index("ix_program_managers_manager", "program_managers")
    op.drop_table("program_managers")
