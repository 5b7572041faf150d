"""The program's transitions: create (OPEN, or DRAFT), update, open a draft, close for good. Each
returns a :class:`Change`: the new state and the events to publish."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import datetime

from services.enrollment.domain.common import require_aware, require_text
from services.enrollment.domain.events import Change, ProgramClosed, ProgramCreated, ProgramUpdated
from services.enrollment.domain.programs import (
    Program,
    ProgramPatch,
    ProgramSpec,
    ProgramStatus,
    validate_spec,
)
from services.shared.errors import FailedPrecondition


def create_program(
    *, program_id: str, tenant: str, spec: ProgramSpec, now: datetime, draft: bool = False
) -> Change[Program]:
    """A new program, OPEN (or DRAFT when ``draft``), and its ProgramCreated event."""
    require_aware(now, "now")
    require_text(program_id, "program_id", max_length=128)
    require_text(tenant, "tenant", max_length=128)
    program = Program(
        program_id=program_id,
        tenant=tenant,
        spec=validate_spec(spec),
        status=ProgramStatus.DRAFT if draft else ProgramStatus.OPEN,
        created_at=now,
        updated_at=now,
    )
    return Change(program, (ProgramCreated(tenant=tenant, occurred_at=now, program=program),))


def update_program(
    program: Program, patch: ProgramPatch, *, has_enrollments: bool, now: datetime
) -> Change[Program]:
    """Apply a partial update, re-validating the whole spec.

    FailedPrecondition ``program_closed`` on a CLOSED program; ``program_has_enrollments`` when
    enrollments exist and the patch changes ``format`` or switches ``formal`` on.
    """
    require_aware(now, "now")
    if program.status is ProgramStatus.CLOSED:
        raise FailedPrecondition("program_closed", "a closed program cannot be changed")
    spec = validate_spec(replace(program.spec, **patch.carried()))  # type: ignore[arg-type]
    changed = tuple(
        f.name for f in fields(ProgramSpec) if getattr(spec, f.name) != getattr(program.spec, f.name)
    )
    if not changed:
        return Change(program)
    if has_enrollments and ("format" in changed or ("formal" in changed and spec.formal)):
        raise FailedPrecondition(
            "program_has_enrollments", "format and formality cannot change once participants enrolled"
        )
    updated = replace(program, spec=spec, updated_at=now, revision=program.revision + 1)
    return Change(
        updated,
        (ProgramUpdated(tenant=program.tenant, occurred_at=now, program=updated, changed_fields=changed),),
    )


def open_program(program: Program, *, now: datetime) -> Change[Program]:
    """Publish a DRAFT. Opening an OPEN program changes nothing; a CLOSED one cannot reopen."""
    require_aware(now, "now")
    if program.status is ProgramStatus.CLOSED:
        raise FailedPrecondition("program_closed", "a closed program cannot reopen")
    if program.status is ProgramStatus.OPEN:
        return Change(program)
    opened = replace(program, status=ProgramStatus.OPEN, updated_at=now, revision=program.revision + 1)
    return Change(
        opened,
        (ProgramUpdated(tenant=program.tenant, occurred_at=now, program=opened, changed_fields=("status",)),),
    )


def close_program(program: Program, *, now: datetime) -> Change[Program]:
    """Close for good (idempotent: closing a CLOSED program changes nothing and emits nothing)."""
    require_aware(now, "now")
    if program.status is ProgramStatus.CLOSED:
        return Change(program)
    closed = replace(program, status=ProgramStatus.CLOSED, updated_at=now, revision=program.revision + 1)
    return Change(
        closed, (ProgramClosed(tenant=program.tenant, occurred_at=now, program_id=program.program_id),)
    )
