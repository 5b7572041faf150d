"""The matching service's store: candidate pools per program (as enrollment published them), matches
and their mentees, matching runs, introductions.

Times are stored in UTC; SQLite hands them back naive, so every read attaches UTC again.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mentoring.v1 import common_pb2
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.service_layer.lifecycle import LIVE, MatchRecord, Member, Origin, Status
from services.shared.db import rows_affected
from services.shared.errors import InvalidArgument

metadata = MetaData()

programs = Table(
    "programs",
    metadata,
    Column("program_id", String(128), primary_key=True),
    Column("tenant", String(128), nullable=False),
    Column("status", Integer, nullable=False),
    Column("program", LargeBinary, nullable=False),  # mentoring.v1.Program
    Column("updated_at", DateTime(timezone=True), nullable=False),
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
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("enrolled_at", DateTime(timezone=True), nullable=True),
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
    Column("proposed_at", DateTime(timezone=True), nullable=False),
    Column("respond_by", DateTime(timezone=True), nullable=False),
    Column("activated_at", DateTime(timezone=True), nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("end_reason", Text, nullable=False),
    Column("ended_by", String(16), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

match_members = Table(
    "match_members",
    metadata,
    Column("match_id", String(64), ForeignKey("matches.match_id", ondelete="CASCADE"), primary_key=True),
    Column("enrollment_id", String(128), primary_key=True),
    Column("employee_id", String(128), nullable=False),
    Column("position", Integer, nullable=False),
    Column("accepted", Boolean, nullable=False),
    Column("left_at", DateTime(timezone=True), nullable=True),
)

matching_runs = Table(
    "matching_runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("program_id", String(128), nullable=False),
    Column("request_id", String(200), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("result", LargeBinary, nullable=False),  # mentoring.v1.MatchingRun
    UniqueConstraint("program_id", "request_id", name="uq_matching_runs_request"),
)

introductions = Table(
    "introductions",
    metadata,
    Column("introduction_id", String(64), primary_key=True),
    Column("introducer_employee_id", String(128), nullable=False),
    Column("mentee_employee_id", String(128), nullable=False),
    Column("mentor_employee_id", String(128), nullable=False),
    Column("program_id", String(128), nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

LIVE_STATUSES = tuple(str(status) for status in LIVE)
_CHUNK = 500  # ids per IN (...) list: well under every driver's bound-parameter limit


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _read_time(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


# ---- programs and participants -------------------------------------------------------------------


async def save_program(session: AsyncSession, program: common_pb2.Program) -> None:
    values = {
        "tenant": program.tenant,
        "status": program.status,
        "program": program.SerializeToString(),
        "updated_at": datetime.now(UTC),
    }
    updated = await session.execute(
        programs.update().where(programs.c.program_id == program.program_id).values(**values)
    )
    if rows_affected(updated) == 0:
        await session.execute(programs.insert().values(program_id=program.program_id, **values))


async def load_program(session: AsyncSession, program_id: str) -> common_pb2.Program | None:
    row = (
        await session.execute(select(programs.c.program).where(programs.c.program_id == program_id))
    ).first()
    return common_pb2.Program.FromString(row.program) if row else None


async def lock_program(session: AsyncSession, program_id: str) -> None:
    """Serialise the changes of one program's matches (a row lock on PostgreSQL; SQLite serialises all
    writers already, BEGIN IMMEDIATE)."""
    await session.execute(
        select(programs.c.program_id).where(programs.c.program_id == program_id).with_for_update()
    )


async def save_participant(
    session: AsyncSession, participant: common_pb2.Participant, seen_at: datetime | None = None
) -> None:
    """Upsert; ``seen_at`` (the event's time) is kept as the enrolment time of a participant new to us."""
    values = {
        "program_id": participant.program_id,
        "employee_id": participant.employee_id,
        "role": participant.role,
        "status": participant.status,
        "participant": participant.SerializeToString(),
        "updated_at": datetime.now(UTC),
    }
    updated = await session.execute(
        participants.update()
        .where(participants.c.enrollment_id == participant.enrollment_id)
        .values(**values)
    )
    if rows_affected(updated) == 0:
        await session.execute(
            participants.insert().values(
                enrollment_id=participant.enrollment_id,
                enrolled_at=utc(seen_at or datetime.now(UTC)),
                **values,
            )
        )


async def load_participants(
    session: AsyncSession, program_id: str, statuses: Sequence[int] = (common_pb2.ENROLLMENT_STATUS_ACTIVE,)
) -> list[common_pb2.Participant]:
    rows = await session.execute(
        select(participants.c.participant)
        .where(participants.c.program_id == program_id, participants.c.status.in_(statuses))
        .order_by(participants.c.enrollment_id)
    )
    return [common_pb2.Participant.FromString(row.participant) for row in rows]


async def load_participant(session: AsyncSession, enrollment_id: str) -> common_pb2.Participant | None:
    row = (
        await session.execute(
            select(participants.c.participant).where(participants.c.enrollment_id == enrollment_id)
        )
    ).first()
    return common_pb2.Participant.FromString(row.participant) if row else None


async def participants_of_employee(session: AsyncSession, employee_id: str) -> list[common_pb2.Participant]:
    """Every enrolment of the employee in any program and status, most recently updated first."""
    rows = await session.execute(
        select(participants.c.participant)
        .where(participants.c.employee_id == employee_id)
        .order_by(participants.c.updated_at.desc(), participants.c.enrollment_id)
    )
    return [common_pb2.Participant.FromString(row.participant) for row in rows]


async def shares_a_program(session: AsyncSession, first_employee: str, second_employee: str) -> bool:
    """Whether both employees are (or were) enrolled in one program, in any role."""
    first = participants.alias("first")
    second = participants.alias("second")
    row = (
        await session.execute(
            select(first.c.program_id)
            .join(second, first.c.program_id == second.c.program_id)
            .where(first.c.employee_id == first_employee, second.c.employee_id == second_employee)
            .limit(1)
        )
    ).first()
    return row is not None


async def enrolled_at(session: AsyncSession, enrollment_ids: Collection[str]) -> dict[str, datetime]:
    ids = list(set(enrollment_ids))
    found: dict[str, datetime] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = await session.execute(
            select(participants.c.enrollment_id, participants.c.enrolled_at).where(
                participants.c.enrollment_id.in_(ids[start : start + _CHUNK]),
                participants.c.enrolled_at.is_not(None),
            )
        )
        found.update((row.enrollment_id, utc(row.enrolled_at)) for row in rows)
    return found


async def forget_employee(session: AsyncSession, employee_id: str) -> int:
    """Erasure: drop the employee's participant rows and introductions, and blank their id in matches
    (the match history of their partners stays, without them). Returns the participant rows dropped."""
    result = await session.execute(delete(participants).where(participants.c.employee_id == employee_id))
    await session.execute(
        delete(introductions).where(
            or_(
                introductions.c.introducer_employee_id == employee_id,
                introductions.c.mentee_employee_id == employee_id,
                introductions.c.mentor_employee_id == employee_id,
            )
        )
    )
    await session.execute(
        update(matches).where(matches.c.mentor_employee_id == employee_id).values(mentor_employee_id="")
    )
    await session.execute(
        update(match_members).where(match_members.c.employee_id == employee_id).values(employee_id="")
    )
    return rows_affected(result)


# ---- matches ---------------------------------------------------------------------------------------


def _match_values(record: MatchRecord) -> dict[str, Any]:
    return {
        "program_id": record.program_id,
        "tenant": record.tenant,
        "format": record.format,
        "mentor_enrollment_id": record.mentor_enrollment_id,
        "mentor_employee_id": record.mentor_employee_id,
        "status": str(record.status),
        "score": record.score,
        "breakdown": dict(record.breakdown),
        "mentor_accepted": record.mentor_accepted,
        "skill_area": record.skill_area,
        "origin": str(record.origin),
        "override_reason": record.override_reason,
        "override_by": record.override_by,
        "note": record.note,
        "run_id": record.run_id,
        "speed_round": record.speed_round,
        "proposed_at": utc(record.proposed_at),
        "respond_by": utc(record.respond_by),
        "activated_at": utc(record.activated_at) if record.activated_at else None,
        "closed_at": utc(record.closed_at) if record.closed_at else None,
        "end_reason": record.end_reason,
        "ended_by": record.ended_by,
        "updated_at": utc(record.updated_at or record.proposed_at),
    }


def _member_rows(record: MatchRecord) -> list[dict[str, Any]]:
    return [
        {
            "match_id": record.match_id,
            "enrollment_id": member.enrollment_id,
            "employee_id": member.employee_id,
            "position": position,
            "accepted": member.accepted,
            "left_at": utc(member.left_at) if member.left_at else None,
        }
        for position, member in enumerate(record.members)
    ]


async def insert_matches(session: AsyncSession, records: Sequence[MatchRecord]) -> None:
    if not records:
        return
    await session.execute(
        matches.insert(), [{"match_id": record.match_id, **_match_values(record)} for record in records]
    )
    await session.execute(match_members.insert(), [row for record in records for row in _member_rows(record)])


async def update_match(session: AsyncSession, record: MatchRecord) -> None:
    await session.execute(
        matches.update().where(matches.c.match_id == record.match_id).values(**_match_values(record))
    )
    await session.execute(delete(match_members).where(match_members.c.match_id == record.match_id))
    await session.execute(match_members.insert(), _member_rows(record))


def _record(row: Any, members: list[Member]) -> MatchRecord:
    return MatchRecord(
        match_id=row.match_id,
        program_id=row.program_id,
        tenant=row.tenant,
        format=row.format,
        mentor_enrollment_id=row.mentor_enrollment_id,
        mentor_employee_id=row.mentor_employee_id,
        members=members,
        score=row.score,
        breakdown={str(name): float(points) for name, points in (row.breakdown or {}).items()},
        proposed_at=utc(row.proposed_at),
        respond_by=utc(row.respond_by),
        origin=Origin(row.origin),
        status=Status(row.status),
        mentor_accepted=row.mentor_accepted,
        skill_area=row.skill_area,
        override_reason=row.override_reason,
        override_by=row.override_by,
        note=row.note,
        run_id=row.run_id,
        speed_round=row.speed_round,
        activated_at=_read_time(row.activated_at),
        closed_at=_read_time(row.closed_at),
        end_reason=row.end_reason,
        ended_by=row.ended_by,
        updated_at=_read_time(row.updated_at),
    )


async def _records(session: AsyncSession, rows: Sequence[Any]) -> list[MatchRecord]:
    if not rows:
        return []
    ids = [row.match_id for row in rows]
    members: dict[str, list[Member]] = defaultdict(list)
    member_rows = await session.execute(
        select(match_members).where(match_members.c.match_id.in_(ids)).order_by(match_members.c.position)
    )
    for member in member_rows:
        members[member.match_id].append(
            Member(member.enrollment_id, member.employee_id, member.accepted, _read_time(member.left_at))
        )
    return [_record(row, members[row.match_id]) for row in rows]


async def get_match(session: AsyncSession, match_id: str, *, for_update: bool = False) -> MatchRecord | None:
    """One match; ``for_update`` locks its row until the transaction ends (PostgreSQL)."""
    query = select(matches).where(matches.c.match_id == match_id)
    if for_update:
        query = query.with_for_update()
    rows = (await session.execute(query)).all()
    found = await _records(session, rows)
    return found[0] if found else None


def _has_current_member(employee_id: str) -> Any:
    return exists().where(
        match_members.c.match_id == matches.c.match_id,
        match_members.c.employee_id == employee_id,
        match_members.c.left_at.is_(None),
    )


async def live_matches_of(
    session: AsyncSession, employee_id: str, program_id: str | None = None
) -> list[MatchRecord]:
    """Live matches the employee is the mentor or a current mentee of (in one program or all)."""
    conditions = [
        matches.c.status.in_(LIVE_STATUSES),
        or_(matches.c.mentor_employee_id == employee_id, _has_current_member(employee_id)),
    ]
    if program_id is not None:
        conditions.append(matches.c.program_id == program_id)
    rows = (
        await session.execute(
            select(matches).where(*conditions).order_by(matches.c.proposed_at, matches.c.match_id)
        )
    ).all()
    return await _records(session, rows)


async def live_matches_of_enrollment(
    session: AsyncSession, participant: common_pb2.Participant
) -> list[MatchRecord]:
    """Live matches of one enrolment: as the mentor, or as a current mentee, in its program."""
    member_of = exists().where(
        match_members.c.match_id == matches.c.match_id,
        match_members.c.enrollment_id == participant.enrollment_id,
        match_members.c.left_at.is_(None),
    )
    rows = (
        await session.execute(
            select(matches)
            .where(
                matches.c.program_id == participant.program_id,
                matches.c.status.in_(LIVE_STATUSES),
                or_(matches.c.mentor_employee_id == participant.employee_id, member_of),
            )
            .order_by(matches.c.proposed_at, matches.c.match_id)
        )
    ).all()
    return await _records(session, rows)


async def overdue_proposals(session: AsyncSession, now: datetime, limit: int = 500) -> list[MatchRecord]:
    rows = (
        await session.execute(
            select(matches)
            .where(matches.c.status == str(Status.PROPOSED), matches.c.respond_by <= utc(now))
            .order_by(matches.c.respond_by, matches.c.match_id)
            .limit(limit)
            # Two sweeps at once (PostgreSQL) must not expire, and publish, the same proposal twice.
            .with_for_update(skip_locked=True)
        )
    ).all()
    return await _records(session, rows)


async def count_pending(session: AsyncSession) -> int:
    return int(
        (
            await session.execute(
                select(func.count()).select_from(matches).where(matches.c.status == str(Status.PROPOSED))
            )
        ).scalar_one()
    )


@dataclass(frozen=True, slots=True)
class MentorLoad:
    """Mentees a mentor holds in live matches: in one program, and in all the others together."""

    here: int
    elsewhere: int


async def mentor_loads(
    session: AsyncSession, program_id: str, employee_ids: Iterable[str] | None = None
) -> dict[str, MentorLoad]:
    """Per mentor employee id: current mentees in live matches here and in other programs."""
    query = (
        select(matches.c.mentor_employee_id, matches.c.program_id, func.count().label("load"))
        .select_from(matches.join(match_members, match_members.c.match_id == matches.c.match_id))
        .where(matches.c.status.in_(LIVE_STATUSES), match_members.c.left_at.is_(None))
        .group_by(matches.c.mentor_employee_id, matches.c.program_id)
    )
    if employee_ids is not None:
        query = query.where(matches.c.mentor_employee_id.in_(list(employee_ids)))
    here: dict[str, int] = defaultdict(int)
    elsewhere: dict[str, int] = defaultdict(int)
    for row in await session.execute(query):
        if not row.mentor_employee_id:
            continue
        if row.program_id == program_id:
            here[row.mentor_employee_id] += int(row.load)
        else:
            elsewhere[row.mentor_employee_id] += int(row.load)
    return {employee: MentorLoad(here[employee], elsewhere[employee]) for employee in {*here, *elsewhere}}


async def live_mentees(session: AsyncSession, program_id: str) -> dict[str, set[str]]:
    """Employee ids of the current mentees of live matches in the program -> the skill areas they hold
    ("" for a match without one). For peer programs the first peer is listed too."""
    held: dict[str, set[str]] = defaultdict(set)
    rows = await session.execute(
        select(
            match_members.c.employee_id, matches.c.skill_area, matches.c.mentor_employee_id, matches.c.format
        )
        .select_from(matches.join(match_members, match_members.c.match_id == matches.c.match_id))
        .where(
            matches.c.program_id == program_id,
            matches.c.status.in_(LIVE_STATUSES),
            match_members.c.left_at.is_(None),
        )
    )
    for row in rows:
        held[row.employee_id].add(row.skill_area)
        if row.format == "peer":
            held[row.mentor_employee_id].add(row.skill_area)
    return dict(held)


async def ended_partners(session: AsyncSession, employee_ids: Collection[str]) -> dict[str, set[str]]:
    """Employee id -> the partners of their ended matches, in any program (a repeat pairing scores less)."""
    ids = list(set(employee_ids))
    partners: dict[str, set[str]] = defaultdict(set)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        rows = await session.execute(
            select(matches.c.mentor_employee_id, match_members.c.employee_id)
            .select_from(matches.join(match_members, match_members.c.match_id == matches.c.match_id))
            .where(
                matches.c.status == str(Status.ENDED),
                or_(matches.c.mentor_employee_id.in_(chunk), match_members.c.employee_id.in_(chunk)),
            )
        )
        for row in rows:
            if row.mentor_employee_id and row.employee_id:
                partners[row.mentor_employee_id].add(row.employee_id)
                partners[row.employee_id].add(row.mentor_employee_id)
    return dict(partners)


async def former_mentors(session: AsyncSession, program_id: str, mentee_employee_id: str) -> set[str]:
    """Mentors whose match with this mentee in the program did not go on (declined, expired, ended, or
    the mentee left the group): a rematch does not propose them again."""
    rows = await session.execute(
        select(matches.c.mentor_employee_id, matches.c.format, matches.c.match_id)
        .select_from(matches.join(match_members, match_members.c.match_id == matches.c.match_id))
        .where(
            matches.c.program_id == program_id,
            match_members.c.employee_id == mentee_employee_id,
            or_(matches.c.status.not_in(LIVE_STATUSES), match_members.c.left_at.is_not(None)),
        )
    )
    found = {row.mentor_employee_id for row in rows if row.mentor_employee_id}
    # A peer may have been the "mentor" side of the pair.
    peer_rows = await session.execute(
        select(match_members.c.employee_id)
        .select_from(matches.join(match_members, match_members.c.match_id == matches.c.match_id))
        .where(
            matches.c.program_id == program_id,
            matches.c.mentor_employee_id == mentee_employee_id,
            matches.c.status.not_in(LIVE_STATUSES),
        )
    )
    found.update(row.employee_id for row in peer_rows if row.employee_id)
    return found


async def employees_with_matches(
    session: AsyncSession, program_id: str, employee_ids: Collection[str]
) -> set[str]:
    """Which of these employees were ever proposed as a mentee (peer) in the program."""
    ids = list(set(employee_ids))
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        rows = await session.execute(
            select(match_members.c.employee_id)
            .select_from(matches.join(match_members, match_members.c.match_id == matches.c.match_id))
            .where(
                matches.c.program_id == program_id,
                match_members.c.employee_id.in_(ids[start : start + _CHUNK]),
            )
            .distinct()
        )
        found.update(row.employee_id for row in rows)
    return found


async def program_has_run(session: AsyncSession, program_id: str) -> bool:
    row = (
        await session.execute(
            select(matching_runs.c.run_id).where(matching_runs.c.program_id == program_id).limit(1)
        )
    ).first()
    return row is not None


# ---- listing ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MatchPage:
    records: list[MatchRecord]
    next_page_token: str
    total_size: int


def _encode_token(key: tuple[str, str]) -> str:
    raw = json.dumps({"k": list(key)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str) -> tuple[datetime, str] | None:
    if not token:
        return None
    try:
        document = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        moment, match_id = document["k"]
        return utc(datetime.fromisoformat(moment)), str(match_id)
    except (binascii.Error, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise InvalidArgument("page.page_token", "is not a token this service issued") from error


async def list_matches(
    session: AsyncSession,
    *,
    program_id: str,
    status: Status | None,
    employee_id: str,
    page_size: int,
    page_token: str,
) -> MatchPage:
    """Matches in proposal order (oldest first), keyset-paged, filtered by program, status, employee."""
    conditions: list[Any] = []
    if program_id:
        conditions.append(matches.c.program_id == program_id)
    if status is not None:
        conditions.append(matches.c.status == str(status))
    if employee_id:
        member_of = exists().where(
            match_members.c.match_id == matches.c.match_id, match_members.c.employee_id == employee_id
        )
        conditions.append(or_(matches.c.mentor_employee_id == employee_id, member_of))
    total = int(
        (await session.execute(select(func.count()).select_from(matches).where(*conditions))).scalar_one()
    )
    after = _decode_token(page_token)
    query = select(matches).where(*conditions)
    if after is not None:
        moment, match_id = after
        query = query.where(
            or_(
                matches.c.proposed_at > moment,
                and_(matches.c.proposed_at == moment, matches.c.match_id > match_id),
            )
        )
    rows = (
        await session.execute(query.order_by(matches.c.proposed_at, matches.c.match_id).limit(page_size + 1))
    ).all()
    records = await _records(session, rows[:page_size])
    token = ""
    if len(rows) > page_size and records:
        last = records[-1]
        token = _encode_token((last.proposed_at.isoformat(), last.match_id))
    return MatchPage(records, token, total)


# ---- runs ------------------------------------------------------------------------------------------


async def find_run(session: AsyncSession, program_id: str, request_id: str) -> bytes | None:
    row = (
        await session.execute(
            select(matching_runs.c.result).where(
                matching_runs.c.program_id == program_id, matching_runs.c.request_id == request_id
            )
        )
    ).first()
    return bytes(row.result) if row else None


async def save_run(
    session: AsyncSession, run_id: str, program_id: str, request_id: str, result: bytes, now: datetime
) -> None:
    await session.execute(
        matching_runs.insert().values(
            run_id=run_id,
            program_id=program_id,
            request_id=request_id or None,
            created_at=utc(now),
            result=result,
        )
    )


# ---- introductions ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IntroductionRow:
    introduction_id: str
    introducer_employee_id: str
    mentee_employee_id: str
    mentor_employee_id: str
    program_id: str


async def find_introduction(
    session: AsyncSession, introducer: str, mentee: str, mentor: str, program_id: str
) -> IntroductionRow | None:
    row = (
        await session.execute(
            select(introductions).where(
                introductions.c.introducer_employee_id == introducer,
                introductions.c.mentee_employee_id == mentee,
                introductions.c.mentor_employee_id == mentor,
                introductions.c.program_id == program_id,
            )
        )
    ).first()
    if row is None:
        return None
    return IntroductionRow(
        row.introduction_id,
        row.introducer_employee_id,
        row.mentee_employee_id,
        row.mentor_employee_id,
        row.program_id,
    )


async def save_introduction(
    session: AsyncSession, introduction: IntroductionRow, note: str, now: datetime
) -> None:
    await session.execute(
        introductions.insert().values(
            introduction_id=introduction.introduction_id,
            introducer_employee_id=introduction.introducer_employee_id,
            mentee_employee_id=introduction.mentee_employee_id,
            mentor_employee_id=introduction.mentor_employee_id,
            program_id=introduction.program_id,
            note=note,
            created_at=utc(now),
        )
    )


async def introduced(session: AsyncSession, mentee: str, mentor: str, program_id: str) -> bool:
    """Whether a colleague introduced the two, for this program or for any program ("")."""
    row = (
        await session.execute(
            select(introductions.c.introduction_id)
            .where(
                introductions.c.mentee_employee_id == mentee,
                introductions.c.mentor_employee_id == mentor,
                introductions.c.program_id.in_([program_id, ""]),
            )
            .limit(1)
        )
    ).first()
    return row is not None
