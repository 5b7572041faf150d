"""The notification service's tables (SQLAlchemy Core): deliveries and their attempts, preferences, and
what it remembers of events to address those that carry only ids (programmes, match participants,
sessions' calendar entries, participants' timezones). The queries are in ``store.py`` (deliveries,
preferences, erasure) and ``event_memory.py`` (the rest).

Employee ids are unique within a tenant only, so everything about a person is keyed and queried by
(tenant, employee id). Programme, match and session ids are unique across tenants.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from services.shared.db import UtcDateTime

metadata = MetaData()

notifications = Table(
    "notifications",
    metadata,
    Column("notification_id", String(64), primary_key=True),
    Column("recipient_id", String(128), nullable=False),
    Column("tenant", String(128), nullable=False),
    Column("template", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", String(64), nullable=False),
    Column("is_read", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    Column("context", JSON, nullable=True),  # e-mails: what they are written from at send time
    Index("ix_notifications_inbox", "tenant", "recipient_id", "channel", "created_at"),
    Index("ix_notifications_due", "state", "channel", "next_attempt_at"),
)

# Every attempt of every delivery, for its delivery status (erased with the person's deliveries).
delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("notification_id", String(64), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("tenant", String(128), nullable=False),
    Column("recipient_id", String(128), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("detail", String(64), nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    PrimaryKeyConstraint("notification_id", "attempt"),
    Index("ix_delivery_attempts_recipient", "tenant", "recipient_id"),
)

preferences = Table(
    "preferences",
    metadata,
    Column("tenant", String(128), nullable=False),
    Column("recipient_id", String(128), nullable=False),
    Column("email", Boolean, nullable=False),
    Column("in_app", Boolean, nullable=False),
    Column("webhook_url", Text, nullable=False),
    Column("muted_templates", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("language", String(16), nullable=False, server_default=""),
    Column("webhook_format", String(16), nullable=False, server_default="standard"),
    Column("webhook_secret", String(128), nullable=False, server_default=""),
    Column("webhook_previous_secret", String(128), nullable=False, server_default=""),
    Column("quiet_start", String(8), nullable=False, server_default=""),
    Column("quiet_end", String(8), nullable=False, server_default=""),
    Column("categories", JSON, nullable=False, server_default="{}"),
    PrimaryKeyConstraint("tenant", "recipient_id", name="pk_preferences_tenant"),
)

# The channels per category a tenant's HR chose for everyone who chose none.
tenant_defaults = Table(
    "tenant_defaults",
    metadata,
    Column("tenant", String(128), primary_key=True),
    Column("categories", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# The timezone each participant enrolled with: in-app texts show times in it (e-mails ask the directory).
people = Table(
    "people",
    metadata,
    Column("tenant", String(128), nullable=False),
    Column("employee_id", String(128), nullable=False),
    Column("timezone", String(64), nullable=False),
    PrimaryKeyConstraint("tenant", "employee_id"),
)

# Each session's calendar entry as last announced (its SEQUENCE counts the moves and the cancellation).
session_calendar = Table(
    "session_calendar",
    metadata,
    Column("tenant", String(128), nullable=False),
    Column("session_id", String(128), nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("duration_minutes", Integer, nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("cancelled", Boolean, nullable=False),
    Column("location", Text, nullable=False),
    Column("meeting_link", Text, nullable=False),
    PrimaryKeyConstraint("tenant", "session_id"),
)

programs = Table(
    "programs",
    metadata,
    Column("program_id", String(128), primary_key=True),
    Column("name", Text, nullable=False),
    Column("format", String(16), nullable=False, server_default=""),
)

match_participants = Table(
    "match_participants",
    metadata,
    Column("match_id", String(128), nullable=False),
    Column("employee_id", String(128), nullable=False),
    Column("audience", String(16), nullable=False),
    Column("program_id", String(128), nullable=False),
    Column("tenant", String(128), nullable=False),
    PrimaryKeyConstraint("match_id", "employee_id"),
    Index("ix_match_participants_employee", "tenant", "employee_id"),
)

# Reminders still to fire before sessions: one row per session and lead, deleted when it fires.
reminders = Table(
    "reminders",
    metadata,
    Column("tenant", String(128), nullable=False),
    Column("session_id", String(128), nullable=False),
    Column("lead_hours", Integer, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("match_id", String(128), nullable=False),
    Column("sequence", Integer, nullable=False),
    PrimaryKeyConstraint("tenant", "session_id", "lead_hours"),
    Index("ix_reminders_due", "due_at"),
)
