"""The enrollment service's store, one module per concern: ``tables`` (the schema), ``directory_store``
(employees, reporting lines, chains), ``program_store`` and ``enrollment_store``; this module gathers
their queries under one name for the handlers.

Every function takes the caller's ``AsyncSession``: the reads and writes of one command or one consumed
event share its transaction (the unit of work).
"""

from services.enrollment.adapters.directory_store import (
    chains_of,
    directory_counts,
    get_employee,
    get_employees,
    manager_lookup,
    reporting_lines,
    save_employees,
)
from services.enrollment.adapters.enrollment_store import (
    count_enrollments,
    employees_with_live_enrollments,
    enrollment_counts,
    enrollments_of_employee,
    enrollments_of_employees,
    get_enrollment,
    get_enrollment_by_request,
    has_live_enrollments,
    insert_enrollment,
    list_enrollments,
    update_enrollments,
)
from services.enrollment.adapters.program_store import (
    closed_reason,
    count_programs,
    get_program,
    get_program_by_request,
    get_programs,
    insert_program,
    list_programs,
    program_counts,
    update_program,
)
from services.enrollment.adapters.tables import ConcurrentUpdate, metadata

__all__ = [
    "ConcurrentUpdate",
    "chains_of",
    "closed_reason",
    "count_enrollments",
    "count_programs",
    "directory_counts",
    "employees_with_live_enrollments",
    "enrollment_counts",
    "enrollments_of_employee",
    "enrollments_of_employees",
    "get_employee",
    "get_employees",
    "get_enrollment",
    "get_enrollment_by_request",
    "get_program",
    "get_program_by_request",
    "get_programs",
    "has_live_enrollments",
    "insert_enrollment",
    "insert_program",
    "list_enrollments",
    "list_programs",
    "manager_lookup",
    "metadata",
    "program_counts",
    "reporting_lines",
    "save_employees",
    "update_enrollments",
    "update_program",
]
