"""Reading matches and answering them: get, list, accept, decline, end at will, and the expiry of
proposals past their response window (lazily, before any of these, and by a periodic sweep)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from services.matching import metrics
from services.matching.adapters import decline_store, match_store, pool_store
from services.matching.adapters.publishing import publish
from services.matching.domain import lifecycle
from services.matching.domain.lifecycle import Kind, MatchRecord, Side, Status, Transition
from services.matching.service_layer import callers
from services.matching.service_layer.commands import (
    AcceptMatch,
    DeclineMatch,
    EndMatch,
    ExpireOverdue,
    GetMatch,
    ListMatches,
)
from services.matching.service_layer.policy import Policy
from services.matching.service_layer.proposals import refresh_pending, rematch
from services.shared.db import Database
from services.shared.errors import InvalidArgument, NotFound
from services.shared.paging import Page, page_size
from services.shared.unit_of_work import after_commit

SWEEP_BATCH: Final = 500


async def find_match(session: AsyncSession, match_id: str, *, for_update: bool = False) -> MatchRecord:
    """A match of any tenant (the service's own reactions); RPCs use ``callers.match_for``."""
    if not match_id.strip():
        raise InvalidArgument("match_id", "is required")
    record = await match_store.get_match(session, match_id.strip(), for_update=for_update)
    if record is None:
        raise NotFound("match", match_id)
    return record


async def get_match(session: AsyncSession, query: GetMatch) -> MatchRecord:
    record = await callers.match_for(session, query.caller, query.match_id)
    await callers.require_sees(session, query.caller, record)
    return record


async def list_matches(session: AsyncSession, query: ListMatches) -> Page[MatchRecord]:
    """HR and a program's managers list the matches of the tenant (of the program); anyone else only
    the matches they are part of."""
    listing = await callers.listing_for(session, query.caller, query.program_id, query.employee_id)
    return await match_store.list_matches(
        session,
        tenant=listing.tenant,
        program_id=query.program_id.strip(),
        status=query.status,
        employee_id=listing.employee_id,
        page_size=page_size(query.page_size),
        page_token=query.page_token,
        visible_to=listing.visible_to,
        managers_see=listing.managers_see,
    )


async def expire_overdue(database: Database, command: ExpireOverdue) -> int:
    """Expire every proposal past its window, batch by batch; returns how many."""
    total = 0
    while True:
        async with database.transaction() as session:
            expired = await expire_batch(session, command.now)
        total += expired
        if expired < SWEEP_BATCH:
            return total


async def expire_batch(session: AsyncSession, now: datetime, limit: int = SWEEP_BATCH) -> int:
    """Expire proposals past their response window; returns how many (at most ``limit`` per call)."""
    overdue = await match_store.overdue_proposals(session, now, limit)
    for record in overdue:
        transitions = lifecycle.expire(record, now)
        await match_store.update_match(session, record)
        await publish(session, record, transitions)
    if overdue:
        expired = len(overdue)
        after_commit(session, lambda: metrics.PROPOSAL_OUTCOMES.labels("expired").inc(expired))
    await refresh_pending(session)
    return len(overdue)


def _count_answer(session: AsyncSession, transitions: Sequence[Transition], record: MatchRecord) -> None:
    answers = [(str(t.by), str(t.kind)) for t in transitions if t.kind in (Kind.ACCEPTED, Kind.DECLINED)]
    activated = any(t.kind is Kind.ACTIVATED for t in transitions)
    declined = record.status is Status.DECLINED

    def count() -> None:
        for side, answer in answers:
            metrics.ANSWERS.labels(side, answer).inc()
        if activated:
            metrics.PROPOSAL_OUTCOMES.labels("activated").inc()
        if declined:
            metrics.PROPOSAL_OUTCOMES.labels("declined").inc()

    after_commit(session, count)


async def accept_match(session: AsyncSession, command: AcceptMatch) -> MatchRecord:
    employee = callers.answering_for(command.caller, command.employee_id)
    record = await callers.match_for(session, command.caller, command.match_id, for_update=True)
    await pool_store.lock_program(session, record.program_id)
    transitions = lifecycle.accept(record, employee, command.now)
    if transitions:
        await match_store.update_match(session, record)
        await publish(session, record, transitions)
        _count_answer(session, transitions, record)
        await refresh_pending(session)
    return record


async def decline_match(session: AsyncSession, command: DeclineMatch, *, policy: Policy) -> MatchRecord:
    """Decline; the mentor's seat is free at once, and the pair is remembered (never proposed again in
    the program). When the mentor declines, the mentee (blameless) gets the next best proposal without
    a re-solve; a mentee who declines goes back to the pool."""
    now = command.now
    employee = callers.answering_for(command.caller, command.employee_id)
    record = await callers.match_for(session, command.caller, command.match_id, for_update=True)
    await pool_store.lock_program(session, record.program_id)
    current = [member.employee_id for member in record.mentees]
    transitions = lifecycle.decline(record, employee, command.reason, now)
    await match_store.update_match(session, record)
    # Remembered: the pair is never proposed to each other again in this program (hard rule declined).
    still_in = {member.employee_id for member in record.mentees} if record.live else set()
    await decline_store.remember(
        session,
        record.program_id,
        record.mentor_employee_id,
        [employee for employee in current if employee not in still_in],
        str(transitions[0].by),
        now,
    )
    await publish(session, record, transitions)
    _count_answer(session, transitions, record)
    if transitions[0].by is Side.MENTOR:
        await rematch(
            session, record.program_id, [m.employee_id for m in record.mentees], now=now, policy=policy
        )
    await refresh_pending(session)
    return record


async def end_match(session: AsyncSession, command: EndMatch, *, policy: Policy) -> MatchRecord:
    """Either side ends an active match at will (no fault); HR may end it for a member. With
    ``offer_rematch`` the mentees get a new proposal at once from the engine's incremental proposal
    (never the same mentor): its MatchProposed follows the MatchEnded (``rematch_offered`` true) in the
    same transaction. When no mentor fits now, none follows and the mentee waits for the next run."""
    now = command.now
    employee = callers.ending_for(command.caller, command.employee_id)
    record = await callers.match_for(session, command.caller, command.match_id, for_update=True)
    await pool_store.lock_program(session, record.program_id)
    transitions = lifecycle.end(record, employee, command.reason, now)
    await match_store.update_match(session, record)
    ended = dataclasses.replace(transitions[0], rematch_offered=command.offer_rematch)
    await publish(session, record, [ended])
    if command.offer_rematch:
        await _rematch_after_end(session, record, now, policy)
    after_commit(session, lambda: metrics.MATCHES_ENDED.labels("at_will").inc())
    await refresh_pending(session)
    return record


async def _rematch_after_end(
    session: AsyncSession, record: MatchRecord, now: datetime, policy: Policy
) -> list[MatchRecord]:
    mentees = [member.employee_id for member in record.mentees]
    if record.format == "peer":
        mentees.append(record.mentor_employee_id)
    return await rematch(session, record.program_id, mentees, now=now, policy=policy)
