"""The matching service's tables: candidate pools per program (as enrollment published them, with the
managers who run each), matches and their mentees, matching runs, introductions, each mentor's seats
taken across programs, and the pairs declined. Instants are UTC (``UtcDateTime``)."""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from services.matching.domain.lifecycle import LIVE
from services.shared.db import UtcDateTime

metadata = MetaData()

programs = Table(
    "programs",
    metadata,
    Column("program_id", String(128), primary_key=True),
    Column("tenant", String(128), nullable=False),
    Column("status", Integer, nullable=False),
    Column("program", LargeBinary, nullable=False),  # mentoring.v1.Program
    Column("updated_at", UtcDateTime(), nullable=False),
)

# Program.manager_ids: the program managers (employee ids) who run each program, no other.
program_managers = Table(
    "program_managers",
    metadata,
    Column("program_id", String(128), primary_key=True),
    Column("employee_id", String(128), primary_key=True),
    Column("tenant", String(128), nullable=False),
)

participants = Table(
    "participants",
    metadata,
    Column("enrollment_id", String(128), primary_key=True),
    Column("program_id", String(128), nullable=False, index=True),
    Column("employee_id", String(128), nullable=False, index=True),
    Column("role", Integer, nullable=False),
    Column("status", Integer, nullable=False),
    Column("participant", LargeBinary, nullable=False),  # mentoring.v1.Participant
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("enrolled_at", UtcDateTime(), nullable=True),
)

matches = Table(
    "matches",
    metadata,
    Column("match_id", String(64), primary_key=True),
    Column("program_id", String(128), nullable=False),
    Column("tenant", String(128), nullable=False),
    Column("format", String(32), nullable=False),
    Column("mentor_enrollment_id", String(128), nullable=False),
    Column("mentor_employee_id", String(128), nullable=False),
    Column("status", String(16), nullable=False),
    Column("score", Float, nullable=False),
    Column("breakdown", JSON, nullable=False),
    Column("mentor_accepted", Boolean, nullable=False),
    Column("skill_area", String(200), nullable=False),
    Column("origin", String(32), nullable=False),
    Column("override_reason", Text, nullable=False),
    Column("override_by", String(128), nullable=False),
    Column("note", Text, nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("speed_round", Integer, nullable=False),
    Column("proposed_at", UtcDateTime(), nullable=False),
    Column("respond_by", UtcDateTime(), nullable=False),
    Column("activated_at", UtcDateTime(), nullable=True),
    Column("closed_at", UtcDateTime(), nullable=True),
    Column("end_reason", Text, nullable=False),
    Column("ended_by", String(16), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

match_members = Table(
    "match_members",
    metadata,
    Column("match_id", String(64), ForeignKey("matches.match_id", ondelete="CASCADE"), primary_key=True),
    Column("enrollment_id", String(128), primary_key=True),
    Column("employee_id", String(128), nullable=False),
    Column("position", Integer, nullable=False),
    Column("accepted", Boolean, nullable=False),
    Column("left_at", UtcDateTime(), nullable=True),
)

matching_runs = Table(
    "matching_runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("program_id", String(128), nullable=False),
    Column("request_id", String(200), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("result", LargeBinary, nullable=False),  # mentoring.v1.MatchingRun
    UniqueConstraint("program_id", "request_id", name="uq_matching_runs_request"),
)

introductions = Table(
    "introductions",
    metadata,
    Column("introduction_id", String(64), primary_key=True),
    Column("tenant", String(128), nullable=False, server_default=""),
    Column("introducer_employee_id", String(128), nullable=False),
    Column("mentee_employee_id", String(128), nullable=False),
    Column("mentor_employee_id", String(128), nullable=False),
    Column("program_id", String(128), nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

# Per person and tenant: mentees held as mentor in live (proposed or active) matches of every program
# but speed ones, kept by a guarded UPDATE in the transaction that stores or closes a match (seat_store).
mentor_seats = Table(
    "mentor_seats",
    metadata,
    Column("tenant", String(128), primary_key=True),
    Column("employee_id", String(128), primary_key=True),
    Column("live_load", Integer, nullable=False),
)

# Pairs proposed in a program and declined by one side: never proposed to each other there again.
declined_pairs = Table(
    "declined_pairs",
    metadata,
    Column("program_id", String(128), primary_key=True),
    Column("mentor_employee_id", String(128), primary_key=True),
    Column("mentee_employee_id", String(128), primary_key=True),
    Column("declined_by", String(16), nullable=False),
    Column("declined_at", UtcDateTime(), nullable=False),
)

LIVE_STATUSES: Final = tuple(str(status) for status in LIVE)
CHUNK: Final = 500  # ids per IN (...) list: well under every driver's bound-parameter limit
