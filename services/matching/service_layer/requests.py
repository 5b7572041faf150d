"""Matches made by people rather than the solver: manual matches by HR, a mentee's request to a mentor
they nominated, and introductions by colleagues (which open the way for such requests).

Hard rules are the engine's (``check_pair``) and are never bent. Soft issues of a manual match need an
override reason, which is stored with the match and published on it:

- ``low_score``: the pair scores below ``manual_min_score_share`` of the best score the program allows;
- ``repeat_pairing``: the two were partners before;
- ``capacity_default_exceeded``: the mentor would hold more mentees than the program's *default*
  capacity. A capacity the mentor declared themselves, and the cap across programs, stay hard;
- ``declined``: one of the two declined the other in this program before. A hard rule for the solver,
  the incremental proposals and a mentee's request; HR may still pair them, with a reason.

Every match made here takes its mentor's seats across programs in the transaction that stores it
(``proposals.take_seats``): a seat taken meanwhile by a concurrent writer refuses it (``capacity``).
"""

from __future__ import annotations

import dataclasses
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from services.matching import metrics
from services.matching.adapters import introduction_store, pool_store
from services.matching.domain import (
    HardRule,
    Participant,
    ProgramFormat,
    ProgramSettings,
    Role,
    ScoreBreakdown,
    check_pair,
    normalise_tag,
    score_pair,
    score_peers,
)
from services.matching.domain.engine_input import best_possible_score, engine_participant
from services.matching.domain.enrollments import Enrollment
from services.matching.domain.introductions import Acquaintance, Introduction, connected
from services.matching.domain.lifecycle import MatchRecord, Origin, clean_reason
from services.matching.service_layer import callers
from services.matching.service_layer.commands import (
    CreateManualMatch,
    IntroduceColleague,
    RequestNominatedMentor,
)
from services.matching.service_layer.policy import Policy
from services.matching.service_layer.proposals import new_id, record_for, refresh_pending, store_proposals
from services.matching.service_layer.views import ProgramView, load_view, require_open
from services.shared.access import DenialReason, PermissionDenied, acting_for, person_of, tenant_of
from services.shared.errors import FailedPrecondition, InvalidArgument, NotFound
from services.shared.unit_of_work import after_commit

LOW_SCORE: Final = "low_score"
REPEAT_PAIRING: Final = "repeat_pairing"
CAPACITY_DEFAULT_EXCEEDED: Final = "capacity_default_exceeded"
DECLINED_BEFORE: Final = str(HardRule.DECLINED)
MAX_NOTE_LENGTH: Final = 2000


def _required(value: str, field: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidArgument(field, "is required")
    return value


def _pair_score(mentor: Participant, mentee: Participant, settings: ProgramSettings) -> ScoreBreakdown:
    if settings.format is ProgramFormat.PEER:
        both = score_peers(mentor, mentee, settings)
        return ScoreBreakdown(
            both.units // 2, {name: units // 2 for name, units in both.component_units.items()}
        )
    return score_pair(mentor, mentee, settings)


def _enrolled(view: ProgramView, enrollment_id: str, field: str) -> Enrollment:
    participant = view.by_enrollment.get(enrollment_id)
    if participant is not None:
        return participant
    raise FailedPrecondition(
        "not_active",
        f"{field} {enrollment_id} is not an active participant of program {view.program.program_id}",
    )


async def _require_known(session: AsyncSession, view: ProgramView, enrollment_id: str) -> Enrollment:
    stored = await pool_store.load_participant(session, enrollment_id)
    if stored is None or stored.program_id != view.program.program_id:
        raise NotFound("enrollment", enrollment_id)
    return stored


SEAT_TAKEN: Final = "the mentor's cap across programs was reached meanwhile (another match)"


def _seat_taken() -> FailedPrecondition:
    return FailedPrecondition(str(HardRule.CAPACITY), SEAT_TAKEN)


# ---- manual matches --------------------------------------------------------------------------------


def _capacity_is_soft(
    mentor_enrollment: Enrollment,
    mentor: Participant,
    mentee: Participant,
    settings: ProgramSettings,
    load: int,
) -> bool:
    """A capacity violation that only exceeds the program's default (the mentor declared none) and
    fits the cap across programs (the person's)."""
    if mentor_enrollment.profile.capacity:
        return False
    cap = mentor.global_cap
    stretched = dataclasses.replace(
        mentor, capacity=cap if cap is not None else load + settings.group_max_size + 1
    )
    return HardRule.CAPACITY not in check_pair(stretched, mentee, settings, mentor_current_load=load)


async def create_manual_match(
    session: AsyncSession, command: CreateManualMatch, *, policy: Policy
) -> MatchRecord:
    now = command.now
    program_id = _required(command.program_id, "program_id")
    mentor_id = _required(command.mentor_enrollment_id, "mentor_enrollment_id")
    hr_actor = callers.actor_of(command.caller, command.hr_actor_id)
    await callers.program_run_by(session, command.caller, program_id)
    mentee_ids = tuple(dict.fromkeys(e.strip() for e in command.mentee_enrollment_ids if e.strip()))
    if not mentee_ids:
        raise InvalidArgument("mentee_enrollment_ids", "name at least one mentee")
    if len(mentee_ids) != len(command.mentee_enrollment_ids):
        raise InvalidArgument("mentee_enrollment_ids", "must be distinct, non-empty ids")
    await pool_store.lock_program(session, program_id)
    view = await load_view(session, program_id, policy, tenant=tenant_of(command.caller))
    require_open(view.program)
    settings = view.settings
    limit = settings.group_max_size if view.format is ProgramFormat.GROUP else 1
    if len(mentee_ids) > limit:
        raise InvalidArgument("mentee_enrollment_ids", f"a {view.format} match has at most {limit} mentee(s)")
    for enrollment_id in (mentor_id, *mentee_ids):
        await _require_known(session, view, enrollment_id)
    mentor_enrollment = _enrolled(view, mentor_id, "mentor")
    mentee_enrollments = [_enrolled(view, enrollment_id, "mentee") for enrollment_id in mentee_ids]
    for mentee_enrollment in mentee_enrollments:
        if view.is_live(mentee_enrollment):
            raise FailedPrecondition(
                "already_matched", f"mentee {mentee_enrollment.enrollment_id} is already in a live match"
            )
    workload = view.workload(mentor_enrollment.employee_id)
    mentor = engine_participant(
        mentor_enrollment,
        view.program,
        workload=workload,
        deduct_load_here=False,
        past_partner_ids=view.partners.get(mentor_enrollment.employee_id, ()),
        declined_partner_ids=view.declined_of(mentor_enrollment.employee_id),
        global_cap=view.cap_of(mentor_enrollment.employee_id),
    )
    hard: list[str] = []
    soft: list[str] = []
    scores: list[ScoreBreakdown] = []
    for offset, mentee_enrollment in enumerate(mentee_enrollments):
        mentee = engine_participant(
            mentee_enrollment,
            view.program,
            past_partner_ids=view.partners.get(mentee_enrollment.employee_id, ()),
            declined_partner_ids=view.declined_of(mentee_enrollment.employee_id),
        )
        load = workload.here + offset
        for rule in check_pair(mentor, mentee, settings, mentor_current_load=load):
            if rule == HardRule.CAPACITY and _capacity_is_soft(
                mentor_enrollment, mentor, mentee, settings, load
            ):
                soft.append(CAPACITY_DEFAULT_EXCEEDED)
            elif rule == HardRule.DECLINED:
                soft.append(DECLINED_BEFORE)
            else:
                hard.append(str(rule))
        breakdown = _pair_score(mentor, mentee, settings)
        scores.append(breakdown)
        if breakdown.total < policy.manual_min_score_share * best_possible_score(settings):
            soft.append(LOW_SCORE)
        if breakdown.component_units.get("repeat_pairing", 0) < 0:
            soft.append(REPEAT_PAIRING)
    hard = list(dict.fromkeys(hard))
    soft = list(dict.fromkeys(soft))
    if hard:
        metrics.MANUAL_MATCHES.labels("refused_hard").inc()
        raise FailedPrecondition(
            hard[0], f"hard rule(s) {', '.join(hard)} forbid this match; hard rules are never overridden"
        )
    override_reason = clean_reason(command.override_reason, "override_reason")
    if soft and not override_reason:
        metrics.MANUAL_MATCHES.labels("refused_soft").inc()
        raise FailedPrecondition(
            soft[0], f"soft issue(s) {', '.join(soft)}: give an override_reason to proceed"
        )
    size = len(scores)
    breakdown_points: dict[str, float] = {}
    for breakdown in scores:
        for name, points in breakdown.points.items():
            breakdown_points[name] = breakdown_points.get(name, 0.0) + points / size
    record = record_for(
        view,
        mentor_enrollment,
        mentor_enrollment.employee_id,
        mentee_enrollments,
        sum(breakdown.total for breakdown in scores) / size,
        breakdown_points,
        origin=Origin.MANUAL,
        now=now,
        policy=policy,
    )
    record.override_reason = override_reason
    record.override_by = hr_actor
    if await store_proposals(session, view, [record], now):
        metrics.MANUAL_MATCHES.labels("refused_hard").inc()
        raise _seat_taken()
    await refresh_pending(session)
    outcome = "overridden" if soft else "created"
    after_commit(session, lambda: metrics.MANUAL_MATCHES.labels(outcome).inc())
    return record


# ---- requests to a nominated mentor -------------------------------------------------------------


def _refuse_request(rule: str, message: str) -> FailedPrecondition:
    metrics.NOMINATION_REQUESTS.labels(rule).inc()
    return FailedPrecondition(rule, message)


async def _connected(
    session: AsyncSession, tenant: str, mentee: Enrollment, mentor: Enrollment, program_id: str
) -> bool:
    """Same team (department, or the same manager), a shared program, or an introduction by a colleague."""
    if mentee.department and mentee.department == mentor.department:
        return True
    chains = (mentee.management_chain_ids, mentor.management_chain_ids)
    if chains[0] and chains[1] and chains[0][0] == chains[1][0]:
        return True
    if await pool_store.shares_a_program(session, tenant, mentee.employee_id, mentor.employee_id):
        return True
    return await introduction_store.introduced(
        session, tenant, mentee.employee_id, mentor.employee_id, program_id
    )


async def request_nominated_mentor(
    session: AsyncSession, command: RequestNominatedMentor, *, policy: Policy
) -> MatchRecord:
    """A mentee asks a mentor they nominated. The mentor may be enrolled in the program or known to
    matching from another program (then the program's default capacity applies); the mentee's side counts
    as accepted, the mentor answers within the program's response window."""
    now = command.now
    program_id = _required(command.program_id, "program_id")
    mentee_id = _required(command.mentee_enrollment_id, "mentee_enrollment_id")
    mentor_employee = _required(command.mentor_employee_id, "mentor_employee_id")
    note = clean_reason(command.message, "message", MAX_NOTE_LENGTH)
    me = person_of(command.caller)
    tenant = tenant_of(command.caller)
    await pool_store.lock_program(session, program_id)
    view = await load_view(session, program_id, policy, extra_employees=(mentor_employee,), tenant=tenant)
    require_open(view.program)
    stored = await _require_known(session, view, mentee_id)
    if stored.employee_id != me:
        raise PermissionDenied(DenialReason.NOT_YOURS, "a mentee asks for a mentor for themselves only")
    mentee_enrollment = _enrolled(view, mentee_id, "mentee")
    if mentee_enrollment.role is not Role.MENTEE:
        raise _refuse_request("role", "only a mentee asks for a mentor")
    if mentor_employee not in mentee_enrollment.profile.nominated_mentor_ids:
        raise _refuse_request("not_nominated", "the mentee did not nominate this mentor")
    skill_area = normalise_tag(command.skill_area)
    if view.is_live(mentee_enrollment, skill_area):
        raise _refuse_request("already_matched", "the mentee is already in a live match in this program")
    enrolled_mentor = next(
        (p for p in view.active if p.employee_id == mentor_employee and p.role is Role.MENTOR),
        None,
    )
    mentor_enrollment = enrolled_mentor
    if mentor_enrollment is None:
        known = await pool_store.participants_of_employee(session, mentor_employee, tenant)
        if not known:
            raise _refuse_request("mentor_unknown", "matching knows no profile of this mentor")
        # Their capacity elsewhere says nothing of this program.
        mentor_enrollment = dataclasses.replace(
            known[0], program_id=program_id, profile=dataclasses.replace(known[0].profile, capacity=0)
        )
    if not await _connected(session, tenant, mentee_enrollment, mentor_enrollment, program_id):
        raise _refuse_request(
            "no_connection",
            "no connection with this mentor: not the same team, no shared program, no introduction",
        )
    workload = view.workload(mentor_employee)
    mentor = engine_participant(
        mentor_enrollment,
        view.program,
        workload=workload,
        deduct_load_here=False,
        role=Role.MENTOR,
        participant_id=mentor_enrollment.enrollment_id
        if enrolled_mentor is not None
        else f"employee:{mentor_employee}",
        past_partner_ids=view.partners.get(mentor_employee, ()),
        declined_partner_ids=view.declined_of(mentor_employee),
        global_cap=view.cap_of(mentor_employee),
    )
    mentee = engine_participant(
        mentee_enrollment,
        view.program,
        past_partner_ids=view.partners.get(mentee_enrollment.employee_id, ()),
        declined_partner_ids=view.declined_of(mentee_enrollment.employee_id),
    )
    violations = check_pair(mentor, mentee, view.settings, mentor_current_load=workload.here)
    if violations:
        raise _refuse_request(
            str(violations[0]), f"hard rule(s) {', '.join(map(str, violations))} forbid this match"
        )
    breakdown = _pair_score(mentor, mentee, view.settings)
    record = record_for(
        view,
        enrolled_mentor,
        mentor_employee,
        [mentee_enrollment],
        breakdown.total,
        breakdown.points,
        origin=Origin.NOMINATION,
        now=now,
        policy=policy,
        skill_area=skill_area,
    )
    record.members[0].accepted = True  # the mentee asked
    record.note = note
    if await store_proposals(session, view, [record], now):
        raise _refuse_request(str(HardRule.CAPACITY), SEAT_TAKEN)
    await refresh_pending(session)
    after_commit(session, lambda: metrics.NOMINATION_REQUESTS.labels("proposed").inc())
    return record


# ---- introductions ---------------------------------------------------------------------------------


async def introduce(session: AsyncSession, command: IntroduceColleague) -> Introduction:
    """Record that a colleague (the caller) introduced a mentee to a mentor of their tenant (for one
    program, or for any when the program is empty). The introducer must know both (same team, one in the
    other's management line, or a shared program). Recording the same introduction again returns the
    first one."""
    caller = command.caller
    tenant = tenant_of(caller)
    introducer = acting_for(caller, command.introducer_employee_id)
    mentee = _required(command.mentee_employee_id, "mentee_employee_id")
    mentor = _required(command.mentor_employee_id, "mentor_employee_id")
    note = clean_reason(command.note, "note", MAX_NOTE_LENGTH)
    program_id = command.program_id.strip()
    if mentee == mentor:
        raise InvalidArgument("mentor_employee_id", "must differ from the mentee")
    if introducer in (mentee, mentor):
        raise FailedPrecondition("self_introduction", "the introducer must be a third colleague")
    if program_id and await pool_store.load_program(session, program_id, tenant) is None:
        raise NotFound("program", program_id)
    people = []
    for employee in (mentee, mentor):
        known = await pool_store.acquaintance(session, tenant, employee)
        if known is None:  # unknown here, or of another tenant
            raise NotFound("employee", employee)
        people.append(known)
    by = await pool_store.acquaintance(session, tenant, introducer) or Acquaintance(introducer)
    if not connected(by, people[0], people[1]):
        raise PermissionDenied(
            DenialReason.NOT_CONNECTED,
            "an introducer must know both: same team, management line, or a shared program",
        )
    existing = await introduction_store.find_introduction(
        session, tenant, introducer, mentee, mentor, program_id
    )
    if existing is not None:
        return existing
    row = Introduction(new_id(), introducer, mentee, mentor, program_id)
    await introduction_store.save_introduction(session, tenant, row, note, command.now)
    return row
