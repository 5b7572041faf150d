"""The audit trail every service keeps (services/shared/audit.py): append-only, so the database refuses
an UPDATE of a row; rows are deleted only by the trail's retention.

Revision ID: messaging_0004
"""

import sqlalchemy as sa
from alembic import op

revision = "messaging_0004"
down_revision = "messaging_0003"
branch_labels = None
depends_on = None

SQLITE_TRIGGER = """
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
"""
POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$
"""
POSTGRES_TRIGGER = """
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
"""


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("audit_id", sa.String(64), nullable=False, unique=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("service", sa.String(50), nullable=False),
        sa.Column("grpc_service", sa.String(200), nullable=False),
        sa.Column("grpc_method", sa.String(100), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("reason", sa.String(100), nullable=False),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("actor_employee_id", sa.String(200), nullable=False),
        sa.Column("actor_service", sa.String(100), nullable=False),
        sa.Column("actor_subject", sa.String(200), nullable=False),
        sa.Column("ids", sa.Text, nullable=False),
        sa.Column("audited", sa.Boolean, nullable=False),
    )
    op.create_index("ix_audit_log_recorded_at", "audit_log", ["recorded_at"])
    op.create_index("ix_audit_log_tenant", "audit_log", ["tenant", "recorded_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)
    else:
        op.execute(SQLITE_TRIGGER)


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER IF EXISTS audit_log_append_only"
        + (" ON audit_log" if op.get_bind().dialect.name == "postgresql" else "")
    )
    op.drop_index("ix_audit_log_tenant", "audit_log")
    op.drop_index("ix_audit_log_recorded_at", "audit_log")
    op.drop_table("audit_log")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
