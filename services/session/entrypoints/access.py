"""Who may call each RPC of the SessionService (``services.shared.rpc_access``); what the handlers then
check on the relationship a request names is ``service_layer/permissions.py``.

Every RPC is a person's: the relationship's members do everything in it; HR and program managers may
list sessions (redacted), the relationships at risk (reason codes) and a program's outcome counts,
nothing else; no service account calls this service.
"""

from __future__ import annotations

from mentoring.v1 import session_pb2

from services.shared.access import PROGRAM_ROLES
from services.shared.rpc_access import EVERY_PERSON, AccessTable, RpcAccess

_MEMBERS = "a relationship of the caller's tenant the caller is a member of (its mentor or a mentee)"

ACCESS = AccessTable(
    session_pb2.DESCRIPTOR.services_by_name["SessionService"],
    {
        "ScheduleSession": RpcAccess(people=EVERY_PERSON, objects=_MEMBERS),
        "CompleteSession": RpcAccess(people=EVERY_PERSON, objects=f"a session of {_MEMBERS}"),
        "CancelSession": RpcAccess(people=EVERY_PERSON, objects=f"a session of {_MEMBERS}"),
        "ListSessions": RpcAccess(
            people=EVERY_PERSON | PROGRAM_ROLES,
            objects=(
                "by match: its members see its sessions whole; HR of the tenant and the managers of its "
                "program see times, delivery and statuses, agenda, notes, place and link emptied; by "
                "employee: the caller's own (whole), or anyone's of the tenant for HR (emptied)"
            ),
        ),
        "SetGoal": RpcAccess(people=EVERY_PERSON, objects=_MEMBERS),
        "RecordGoalProgress": RpcAccess(
            people=EVERY_PERSON, objects=f"{_MEMBERS}; the check-in is the caller's (naming another: refused)"
        ),
        "ListGoals": RpcAccess(
            people=EVERY_PERSON, objects=f"{_MEMBERS} (goals and progress are confidential: not for HR)"
        ),
        "SubmitFeedback": RpcAccess(
            people=EVERY_PERSON,
            objects=f"a session of {_MEMBERS}; the feedback is the caller's (naming another: refused)",
        ),
        "ExportICalendar": RpcAccess(
            people=EVERY_PERSON, objects=f"the caller's own sessions: of {_MEMBERS}, or all of theirs"
        ),
        "GetPlan": RpcAccess(people=EVERY_PERSON, objects=f"the cadence plan of {_MEMBERS}"),
        "AcceptPlannedSlot": RpcAccess(people=EVERY_PERSON, objects=f"a slot of the plan of {_MEMBERS}"),
        "MovePlannedSlot": RpcAccess(people=EVERY_PERSON, objects=f"a slot of the plan of {_MEMBERS}"),
        "SkipPlannedSlot": RpcAccess(people=EVERY_PERSON, objects=f"a slot of the plan of {_MEMBERS}"),
        "ExportPlanICalendar": RpcAccess(people=EVERY_PERSON, objects=f"the cadence plan of {_MEMBERS}"),
        "ListRelationshipsAtRisk": RpcAccess(
            people=PROGRAM_ROLES,
            objects=(
                "HR: the tenant's relationships at risk, of one program or all; a program manager: of a "
                "program they manage, named; match, program, reason codes and since when, never words"
            ),
        ),
        "GetProgramOutcomes": RpcAccess(
            people=PROGRAM_ROLES,
            objects="a program of the caller's tenant (HR) or that they manage: counts, no person in them",
        ),
        "ListFeedbackReceived": RpcAccess(
            people=EVERY_PERSON,
            objects=f"{_MEMBERS}: the feedback the other side gave them (never another mentee's)",
        ),
        "SubmitClosingReview": RpcAccess(
            people=EVERY_PERSON,
            objects=(
                f"{_MEMBERS}, ended or whose program ended; the review is the caller's (naming another: "
                "refused)"
            ),
        ),
    },
)
