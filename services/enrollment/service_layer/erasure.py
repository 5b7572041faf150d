"""What an erasure leaves behind, and how it is made unreadable.

- The database file (SQLite): see :mod:`services.shared.erasure` (zeroed free space, the write-ahead log
  truncated once the erasure committed).
- The copies on Kafka that we cannot delete (the HRIS dead letters): sealed under the person's key
  (:class:`DeadLetterKeys`), which the erasure deletes in its own transaction (``service_layer/hris.py``).
"""

from __future__ import annotations

from services.enrollment.adapters import store
from services.enrollment.domain import EmployeeStatus
from services.shared import personal_keys
from services.shared.db import Database


class DeadLetterKeys:
    """The key an HRIS dead letter about ``tenant:subject`` is sealed with: the person's, made on first
    use; for a person already erased, a key that is never stored (the letter is unreadable at once)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def key_for_sealing(self, tenant: str, subject: str) -> bytes:
        async with self._database.transaction() as session:
            employee = await store.get_employee(session, tenant, subject)
            if employee is not None and employee.status is EmployeeStatus.ERASED:
                return personal_keys.new_key()
            return await personal_keys.key_for_sealing(session, tenant, subject)

    async def key_for_opening(self, tenant: str, subject: str) -> bytes | None:
        async with self._database.read_transaction() as session:
            return await personal_keys.key_of(session, tenant, subject)
