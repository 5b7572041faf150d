"""Every command the matching service handles, and its handler: the RPCs (runs, answers, matches made
by people, reads) and the enrollment events the consumer translates into commands. Handlers take
``(session, command)``, a workflow's ``(database, command)``; the service's policy is bound here."""

from __future__ import annotations

from functools import partial

from services.matching.service_layer import answers, commands, pools, requests, runs
from services.matching.service_layer.policy import Policy
from services.shared.messagebus import Handlers


def handlers(policy: Policy) -> Handlers:
    """The one handler map of the service, bound to its policy."""
    return {
        # runs: read, solve outside a transaction, store
        commands.RunMatching: partial(runs.run_matching, policy=policy),
        commands.PreviewMatching: partial(runs.preview_matching, policy=policy),
        # reading and answering matches
        commands.GetMatch: answers.get_match,
        commands.ListMatches: answers.list_matches,
        commands.AcceptMatch: answers.accept_match,
        commands.DeclineMatch: partial(answers.decline_match, policy=policy),
        commands.EndMatch: partial(answers.end_match, policy=policy),
        commands.ExpireOverdue: answers.expire_overdue,
        # matches made by people
        commands.CreateManualMatch: partial(requests.create_manual_match, policy=policy),
        commands.RequestNominatedMentor: partial(requests.request_nominated_mentor, policy=policy),
        commands.IntroduceColleague: requests.introduce,
        # enrollment.events.v1
        commands.ChangeProgram: pools.program_changed,
        commands.CloseProgram: pools.program_closed,
        commands.EnrollParticipant: partial(pools.participant_enrolled, policy=policy),
        commands.UpdateParticipant: partial(pools.participant_updated, policy=policy),
        commands.PauseParticipant: partial(pools.participant_paused, policy=policy),
        commands.ResumeParticipant: partial(pools.participant_resumed, policy=policy),
        commands.WithdrawParticipant: partial(pools.participant_withdrawn, policy=policy),
        commands.EraseEmployee: partial(pools.employee_erased, policy=policy),
    }
