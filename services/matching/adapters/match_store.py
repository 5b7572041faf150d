"""Matches and their mentees: storing, reading, listing, and what a program's view needs of them (live
loads, the skill areas held, past partners, former mentors)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import and_, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.adapters import seat_store
from services.matching.adapters.tables import CHUNK, LIVE_STATUSES, match_members, matches, program_managers
from services.matching.domain.engine_input import Workload
from services.matching.domain.lifecycle import MatchRecord, Member, Origin, Status
from services.shared.errors import InvalidArgument
from services.shared.paging import Page, decode_token, encode_token

LISTING: Final = "matches"


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
        "proposed_at": record.proposed_at,
        "respond_by": record.respond_by,
        "activated_at": record.activated_at,
        "closed_at": record.closed_at,
        "end_reason": record.end_reason,
        "ended_by": record.ended_by,
        "updated_at": record.updated_at or record.proposed_at,
    }


def _member_rows(record: MatchRecord) -> list[dict[str, Any]]:
    return [
        {
            "match_id": record.match_id,
            "enrollment_id": member.enrollment_id,
            "employee_id": member.employee_id,
            "position": position,
            "accepted": member.accepted,
            "left_at": member.left_at,
        }
        for position, member in enumerate(record.members)
    ]


async def insert_matches(session: AsyncSession, records: Sequence[MatchRecord]) -> None:
    """Insert matches whose seats the caller took (``seat_store.take``) in this transaction."""
    if not records:
        return
    await session.execute(
        matches.insert(), [{"match_id": record.match_id, **_match_values(record)} for record in records]
    )
    await session.execute(match_members.insert(), [row for record in records for row in _member_rows(record)])


async def update_match(session: AsyncSession, record: MatchRecord) -> None:
    """Store the match's new state; the seats it gives back (declined, expired, ended, a member gone)
    are released in the same transaction."""
    before = await seat_store.stored_seats(session, record.match_id)
    after = seat_store.seats_of(record)
    await session.execute(
        matches.update().where(matches.c.match_id == record.match_id).values(**_match_values(record))
    )
    await session.execute(delete(match_members).where(match_members.c.match_id == record.match_id))
    await session.execute(match_members.insert(), _member_rows(record))
    if after < before:
        await seat_store.release(session, record.tenant, record.mentor_employee_id, before - after)
    elif after > before:  # no transition adds a mentee to a live match; counted, should one ever do
        await seat_store.take(session, record.tenant, record.mentor_employee_id, after - before, None)


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
        proposed_at=row.proposed_at,
        respond_by=row.respond_by,
        origin=Origin(row.origin),
        status=Status(row.status),
        mentor_accepted=row.mentor_accepted,
        skill_area=row.skill_area,
        override_reason=row.override_reason,
        override_by=row.override_by,
        note=row.note,
        run_id=row.run_id,
        speed_round=row.speed_round,
        activated_at=row.activated_at,
        closed_at=row.closed_at,
        end_reason=row.end_reason,
        ended_by=row.ended_by,
        updated_at=row.updated_at,
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
            Member(member.enrollment_id, member.employee_id, member.accepted, member.left_at)
        )
    return [_record(row, members[row.match_id]) for row in rows]


async def get_match(
    session: AsyncSession, match_id: str, *, tenant: str | None = None, for_update: bool = False
) -> MatchRecord | None:
    """One match (with ``tenant``, only one of that tenant); ``for_update`` locks its row until the
    transaction ends (PostgreSQL)."""
    query = select(matches).where(matches.c.match_id == match_id)
    if tenant is not None:
        query = query.where(matches.c.tenant == tenant)
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
    session: AsyncSession, program_id: str, enrollment_id: str, employee_id: str
) -> list[MatchRecord]:
    """Live matches of one enrolment: as the mentor, or as a current mentee, in its program."""
    member_of = exists().where(
        match_members.c.match_id == matches.c.match_id,
        match_members.c.enrollment_id == enrollment_id,
        match_members.c.left_at.is_(None),
    )
    rows = (
        await session.execute(
            select(matches)
            .where(
                matches.c.program_id == program_id,
                matches.c.status.in_(LIVE_STATUSES),
                or_(matches.c.mentor_employee_id == employee_id, member_of),
            )
            .order_by(matches.c.proposed_at, matches.c.match_id)
        )
    ).all()
    return await _records(session, rows)


async def overdue_proposals(session: AsyncSession, now: datetime, limit: int = 500) -> list[MatchRecord]:
    rows = (
        await session.execute(
            select(matches)
            .where(matches.c.status == str(Status.PROPOSED), matches.c.respond_by <= now)
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


async def mentor_loads(
    session: AsyncSession, tenant: str, program_id: str, employee_ids: Iterable[str] | None = None
) -> dict[str, Workload]:
    """Per mentor employee id: current mentees in live matches here and in the tenant's other programs."""
    query = (
        select(matches.c.mentor_employee_id, matches.c.program_id, func.count().label("load"))
        .select_from(matches.join(match_members, match_members.c.match_id == matches.c.match_id))
        .where(
            matches.c.tenant == tenant,
            matches.c.status.in_(LIVE_STATUSES),
            match_members.c.left_at.is_(None),
        )
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
    return {employee: Workload(here[employee], elsewhere[employee]) for employee in {*here, *elsewhere}}


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


async def ended_partners(
    session: AsyncSession, tenant: str, employee_ids: Collection[str]
) -> dict[str, set[str]]:
    """Employee id -> the partners of their ended matches, in any program of the tenant (a repeat pairing
    scores less)."""
    ids = list(set(employee_ids))
    partners: dict[str, set[str]] = defaultdict(set)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        rows = await session.execute(
            select(matches.c.mentor_employee_id, match_members.c.employee_id)
            .select_from(matches.join(match_members, match_members.c.match_id == matches.c.match_id))
            .where(
                matches.c.tenant == tenant,
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
    for start in range(0, len(ids), CHUNK):
        rows = await session.execute(
            select(match_members.c.employee_id)
            .select_from(matches.join(match_members, match_members.c.match_id == matches.c.match_id))
            .where(
                matches.c.program_id == program_id,
                match_members.c.employee_id.in_(ids[start : start + CHUNK]),
            )
            .distinct()
        )
        found.update(row.employee_id for row in rows)
    return found


def _after(page_token: str) -> tuple[datetime, str] | None:
    """Where the page starts: after the (proposal time, match id) the token carries."""
    key = decode_token(LISTING, page_token, parts=2)
    if key is None:
        return None
    moment, match_id = key
    try:
        return datetime.fromisoformat(moment), match_id
    except ValueError as error:
        raise InvalidArgument("page.page_token", "is not a token this service issued") from error


def _part_of(employee_id: str) -> Any:
    """The match names the employee: its mentor, or a mentee (one who left too)."""
    member_of = exists().where(
        match_members.c.match_id == matches.c.match_id, match_members.c.employee_id == employee_id
    )
    return or_(matches.c.mentor_employee_id == employee_id, member_of)


async def list_matches(
    session: AsyncSession,
    *,
    tenant: str,
    program_id: str,
    status: Status | None,
    employee_id: str,
    page_size: int,
    page_token: str,
    visible_to: str | None = None,
    managers_see: bool = False,
) -> Page[MatchRecord]:
    """The tenant's matches in proposal order (oldest first), keyset-paged, filtered by program, status,
    employee. With ``visible_to``, only the matches that person is part of, or (``managers_see``) that
    belong to a program naming them among its managers."""
    conditions: list[Any] = [matches.c.tenant == tenant]
    if program_id:
        conditions.append(matches.c.program_id == program_id)
    if status is not None:
        conditions.append(matches.c.status == str(status))
    if employee_id:
        conditions.append(_part_of(employee_id))
    if visible_to is not None:
        visible = _part_of(visible_to)
        if managers_see:
            managed = select(program_managers.c.program_id).where(
                program_managers.c.tenant == tenant, program_managers.c.employee_id == visible_to
            )
            visible = or_(visible, matches.c.program_id.in_(managed))
        conditions.append(visible)
    total = int(
        (await session.execute(select(func.count()).select_from(matches).where(*conditions))).scalar_one()
    )
    after = _after(page_token)
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
        token = encode_token(LISTING, [last.proposed_at.isoformat(), last.match_id])
    return Page(records, token, total)
