"""Everything about a person keyed by tenant: employee ids are unique within a tenant only.

Preferences get a tenant and the key (tenant, recipient_id); match participants get the tenant of
their match; the inbox index leads with the tenant (deliveries already stored theirs).

Rows written before this revision are given the one tenant the service has delivered to that recipient
(for a match, to its participants) in; where there is none, or more than one, the tenant stays empty and
the row is no longer found (no person's token has an empty tenant): preferences then fall back to the
defaults and session events of such a match are dead-lettered as of an unknown match.

Revision ID: notification_0002
Revises: notification_0001
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "notification_0002"
down_revision = "notification_0001"
branch_labels = None
depends_on = None

# The one tenant delivered to in, or '' (an aggregate without GROUP BY always yields one row).
_ONE_TENANT = "CASE WHEN COUNT(DISTINCT n.tenant) = 1 THEN MIN(n.tenant) ELSE '' END"


def _preference_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("recipient_id", sa.String(128), nullable=False),
        sa.Column("email", sa.Boolean, nullable=False),
        sa.Column("in_app", sa.Boolean, nullable=False),
        sa.Column("webhook_url", sa.Text, nullable=False),
        sa.Column("muted_templates", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


_COPIED = "recipient_id, email, in_app, webhook_url, muted_templates, updated_at"


def upgrade() -> None:
    op.create_table(
        "preferences_by_tenant",
        sa.Column("tenant", sa.String(128), nullable=False),
        *_preference_columns(),
        sa.PrimaryKeyConstraint("tenant", "recipient_id", name="pk_preferences_tenant"),
    )
    op.execute(
        f"INSERT INTO preferences_by_tenant (tenant, {_COPIED}) "
        f"SELECT (SELECT {_ONE_TENANT} FROM notifications n WHERE n.recipient_id = p.recipient_id), "
        f"{', '.join(f'p.{column.strip()}' for column in _COPIED.split(','))} FROM preferences p"
    )
    op.drop_table("preferences")
    op.rename_table("preferences_by_tenant", "preferences")

    with op.batch_alter_table("match_participants") as batch:
        batch.add_column(sa.Column("tenant", sa.String(128), nullable=False, server_default=""))
    op.execute(
        f"UPDATE match_participants SET tenant = (SELECT {_ONE_TENANT} FROM notifications n "
        "WHERE n.recipient_id IN (SELECT q.employee_id FROM match_participants q "
        "WHERE q.match_id = match_participants.match_id))"
    )
    op.drop_index("ix_match_participants_employee", "match_participants")
    op.create_index("ix_match_participants_employee", "match_participants", ["tenant", "employee_id"])

    op.drop_index("ix_notifications_inbox", "notifications")
    op.create_index(
        "ix_notifications_inbox", "notifications", ["tenant", "recipient_id", "channel", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_inbox", "notifications")
    op.create_index("ix_notifications_inbox", "notifications", ["recipient_id", "channel", "created_at"])

    op.drop_index("ix_match_participants_employee", "match_participants")
    op.create_index("ix_match_participants_employee", "match_participants", ["employee_id"])
    with op.batch_alter_table("match_participants") as batch:
        batch.drop_column("tenant")

    # One row per recipient again: namesakes of several tenants keep the first tenant's preferences.
    op.create_table("preferences_untenanted", *_preference_columns(), sa.PrimaryKeyConstraint("recipient_id"))
    op.execute(
        f"INSERT INTO preferences_untenanted ({_COPIED}) SELECT {_COPIED} FROM preferences p "
        "WHERE p.tenant = (SELECT MIN(o.tenant) FROM preferences o WHERE o.recipient_id = p.recipient_id)"
    )
    op.drop_table("preferences")
    op.rename_table("preferences_untenanted", "preferences")
