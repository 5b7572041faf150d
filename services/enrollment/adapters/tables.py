"""The enrollment service's tables (SQLAlchemy Core). Personal data (name, e-mail) lives in the
``employees`` table only, and an erasure overwrites it with a tombstone."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    text,
)

from services.shared.db import UtcDateTime
from services.shared.personal_keys import personal_keys

# Keeps IN lists well under every database's limit on bound parameters.
IN_CHUNK: Final = 500


metadata = MetaData()

employees = Table(
    "employees",
    metadata,
    Column("tenant", String(128), nullable=False),
    Column("employee_id", String(128), nullable=False),
    Column("status", String(16), nullable=False),
    Column("version_time", UtcDateTime, nullable=False),
    Column("version_sequence", BigInteger, nullable=False),
    Column("display_name", String(200)),  # personal data
    Column("email", String(254)),  # personal data
    Column("title", String(200)),
    Column("grade", Integer),
    Column("department", String(200)),
    Column("division", String(200)),
    Column("organization", String(200)),
    Column("cost_center", String(200)),
    Column("location", String(200)),
    Column("timezone", String(64)),
    Column("languages", JSON, nullable=False),
    Column("skills", JSON, nullable=False),
    Column("hire_date", Date),
    Column("termination_date", Date),
    Column("manager_id", String(128)),
    Column("field_versions", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("tenant", "employee_id"),
    Index("ix_employees_manager", "tenant", "manager_id"),
    Index("ix_employees_employee_id", "employee_id"),
)

programs = Table(
    "programs",
    metadata,
    Column("program_id", String(64), primary_key=True),
    Column("tenant", String(128), nullable=False),
    Column("name", String(200), nullable=False),
    Column("format", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("spec", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("closed_reason", String(500)),
    Column("request_id", String(128)),
    Column("request_fingerprint", String(64)),
    Column("manager_ids", JSON, nullable=False, server_default=text("'[]'")),  # employee ids
    Index("ix_programs_tenant_created", "tenant", "created_at", "program_id"),
    UniqueConstraint("tenant", "request_id", name="uq_programs_request"),
)

enrollments = Table(
    "enrollments",
    metadata,
    Column("enrollment_id", String(64), primary_key=True),
    Column("tenant", String(128), nullable=False),
    Column("program_id", String(64), ForeignKey("programs.program_id"), nullable=False),
    Column("employee_id", String(128), nullable=False),
    Column("role", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("profile", JSON, nullable=False),
    Column("enrolled_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("pause_reason", String(16)),
    Column("withdrawal_reason", String(500)),
    Column("revision", Integer, nullable=False),
    Column("request_id", String(128)),
    Column("request_fingerprint", String(64)),
    Index("ix_enrollments_employee", "tenant", "employee_id"),
    Index("ix_enrollments_program", "program_id", "enrollment_id"),
    UniqueConstraint("program_id", "request_id", name="uq_enrollments_request"),
    # At most one live enrollment per employee and program, whatever the isolation level.
    Index(
        "uq_enrollments_live",
        "program_id",
        "employee_id",
        unique=True,
        sqlite_where=text("status != 'WITHDRAWN'"),
        postgresql_where=text("status != 'WITHDRAWN'"),
    ),
)

# Per-person keys (crypto-shredding of the HRIS dead letters): declared once, in services/shared.
personal_keys.to_metadata(metadata)


class ConcurrentUpdate(Exception):
    """The row changed under us (optimistic concurrency by revision): retry the whole unit of work."""


def in_chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for first in range(0, len(values), IN_CHUNK):
        yield values[first : first + IN_CHUNK]
