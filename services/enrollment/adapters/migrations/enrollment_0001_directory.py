"""Employee directory (from HRIS), programs and enrollments.

Revision ID: enrollment_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "enrollment_0001"
down_revision = "messaging_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "employees",
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("employee_id", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version_sequence", sa.BigInteger, nullable=False),
        sa.Column("display_name", sa.String(200)),
        sa.Column("email", sa.String(254)),
        sa.Column("title", sa.String(200)),
        sa.Column("grade", sa.Integer),
        sa.Column("department", sa.String(200)),
        sa.Column("division", sa.String(200)),
        sa.Column("organization", sa.String(200)),
        sa.Column("cost_center", sa.String(200)),
        sa.Column("location", sa.String(200)),
        sa.Column("timezone", sa.String(64)),
        sa.Column("languages", sa.JSON, nullable=False),
        sa.Column("skills", sa.JSON, nullable=False),
        sa.Column("hire_date", sa.Date),
        sa.Column("termination_date", sa.Date),
        sa.Column("manager_id", sa.String(128)),
        sa.Column("field_versions", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "employee_id"),
    )
    op.create_index("ix_employees_manager", "employees", ["tenant", "manager_id"])
    op.create_index("ix_employees_employee_id", "employees", ["employee_id"])
    op.create_table(
        "programs",
        sa.Column("program_id", sa.String(64), primary_key=True),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("closed_reason", sa.String(500)),
        sa.Column("request_id", sa.String(128)),
        sa.Column("request_fingerprint", sa.String(64)),
        sa.UniqueConstraint("tenant", "request_id", name="uq_programs_request"),
    )
    op.create_index("ix_programs_tenant_created", "programs", ["tenant", "created_at", "program_id"])
    op.create_table(
        "enrollments",
        sa.Column("enrollment_id", sa.String(64), primary_key=True),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("program_id", sa.String(64), sa.ForeignKey("programs.program_id"), nullable=False),
        sa.Column("employee_id", sa.String(128), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("profile", sa.JSON, nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pause_reason", sa.String(16)),
        sa.Column("withdrawal_reason", sa.String(500)),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("request_id", sa.String(128)),
        sa.Column("request_fingerprint", sa.String(64)),
        sa.UniqueConstraint("program_id", "request_id", name="uq_enrollments_request"),
    )
    op.create_index("ix_enrollments_employee", "enrollments", ["tenant", "employee_id"])
    op.create_index("ix_enrollments_program", "enrollments", ["program_id", "enrollment_id"])
    op.create_index(
        "uq_enrollments_live",
        "enrollments",
        ["program_id", "employee_id"],
        unique=True,
        sqlite_where=sa.text("status != 'WITHDRAWN'"),
        postgresql_where=sa.text("status != 'WITHDRAWN'"),
    )


def downgrade() -> None:
    op.drop_table("enrollments")
    op.drop_table("programs")
    op.drop_table("employees")
