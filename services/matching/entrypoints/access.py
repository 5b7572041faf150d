"""Who may call each RPC of the MatchingService (checked before the request becomes a command); what
the handlers then check on the program or match (``service_layer/callers.py``) is said in ``objects``."""

from __future__ import annotations

from mentoring.v1 import matching_pb2

from services.shared.access import PROGRAM_ROLES
from services.shared.rpc_access import EVERY_PERSON, AccessTable, RpcAccess

ACCESS = AccessTable(
    matching_pb2.DESCRIPTOR.services_by_name["MatchingService"],
    {
        "RunMatching": RpcAccess(
            people=PROGRAM_ROLES,
            objects="a program of the caller's tenant: HR, or a program manager it names",
            audited=True,
        ),
        "PreviewMatching": RpcAccess(
            people=PROGRAM_ROLES,
            objects="a program of the caller's tenant: HR, or a program manager it names",
        ),
        "GetMatch": RpcAccess(
            people=EVERY_PERSON,
            objects="a match of the caller's tenant: its members, HR, or a manager of its program",
        ),
        "ListMatches": RpcAccess(
            people=EVERY_PERSON,
            objects="the tenant's matches for HR and a program's managers; for anyone else only the "
            "matches they are part of (another employee named: refused)",
        ),
        "AcceptMatch": RpcAccess(
            people=EVERY_PERSON,
            objects="a match of the caller's tenant, answered by a member for themselves only",
        ),
        "DeclineMatch": RpcAccess(
            people=EVERY_PERSON,
            objects="a match of the caller's tenant, answered by a member for themselves only",
        ),
        "EndMatch": RpcAccess(
            people=EVERY_PERSON,
            objects="a match of the caller's tenant: a member, or HR for a member",
        ),
        "CreateManualMatch": RpcAccess(
            people=PROGRAM_ROLES,
            objects="a program of the caller's tenant: HR, or a program manager it names; the actor is "
            "the caller",
            audited=True,
        ),
        "RequestNominatedMentor": RpcAccess(
            people=EVERY_PERSON,
            objects="the caller's own mentee enrolment, in a program of their tenant",
        ),
        "IntroduceColleague": RpcAccess(
            people=EVERY_PERSON,
            objects="the caller introduces two people of their tenant they know (same team, management "
            "line, or a shared program)",
        ),
    },
)
