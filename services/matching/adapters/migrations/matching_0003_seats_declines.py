"""Each mentor's seats across programs (a per-person load row, filled from the live matches) and the
pairs declined in a program (filled from the declined matches).

Revision ID: matching_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "matching_0003"
down_revision = "matching_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mentor_seats",
        sa.Column("tenant", sa.String(128), primary_key=True),
        sa.Column("employee_id", sa.String(128), primary_key=True),
        sa.Column("live_load", sa.Integer, nullable=False),
    )
    op.execute(
        "INSERT INTO mentor_seats (tenant, employee_id, live_load) "
        "SELECT m.tenant, m.mentor_employee_id, count(*) FROM matches m "
        "JOIN match_members mm ON mm.match_id = m.match_id "
        "WHERE m.status IN ('proposed', 'active') AND mm.left_at IS NULL "
        "AND m.format NOT IN ('speed', 'peer') AND m.mentor_employee_id <> '' "
        "GROUP BY m.tenant, m.mentor_employee_id"
    )
    op.create_table(
        "declined_pairs",
        sa.Column("program_id", sa.String(128), primary_key=True),
        sa.Column("mentor_employee_id", sa.String(128), primary_key=True),
        sa.Column("mentee_employee_id", sa.String(128), primary_key=True),
        sa.Column("declined_by", sa.String(16), nullable=False),
        sa.Column("declined_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_declined_pairs_mentee", "declined_pairs", ["mentee_employee_id"])
    op.create_index("ix_declined_pairs_mentor", "declined_pairs", ["mentor_employee_id"])
    op.execute(
        "INSERT INTO declined_pairs "
        "(program_id, mentor_employee_id, mentee_employee_id, declined_by, declined_at) "
        "SELECT m.program_id, m.mentor_employee_id, mm.employee_id, min(m.ended_by), "
        "min(coalesce(m.closed_at, m.updated_at)) FROM matches m "
        "JOIN match_members mm ON mm.match_id = m.match_id "
        "WHERE m.status = 'declined' AND m.mentor_employee_id <> '' AND mm.employee_id <> '' "
        "GROUP BY m.program_id, m.mentor_employee_id, mm.employee_id"
    )


def downgrade() -> None:
    op.drop_table("declined_pairs")
    op.drop_table("mentor_seats")
