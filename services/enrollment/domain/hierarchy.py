"""Reporting lines: management chains, cycle detection and the reports below a manager.

Everything works on a plain ``Mapping[str, str | None]`` of employee id -> manager id (None: top of
the tree). An id that appears as a manager but not as a key is an employee the directory does not know
yet (a manager hired after their reports). The handler can pass the whole tenant's map (100k entries
is a few MB) or only the rows it loaded, e.g. the ancestors of one employee read with a recursive query.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping

from services.shared.errors import InvalidArgument

ManagerLookup = Mapping[str, str | None]


class ReportingCycle(InvalidArgument):
    """A manager change that would make someone their own (indirect) manager; it is not applied."""

    def __init__(self, employee_id: str, cycle: tuple[str, ...]) -> None:
        super().__init__("manager", f"would create a reporting cycle: {' -> '.join(cycle)}")
        self.employee_id = employee_id
        self.cycle = cycle


def management_chain(managers: ManagerLookup, employee_id: str) -> tuple[str, ...]:
    """Manager, skip-level manager, ... up to the top of the tree.

    The walk stops after the first manager the lookup does not know (that id is included: it is a
    real reporting line, only its own manager is unknown). Raises :class:`ReportingCycle` if the stored
    data already holds a cycle, which :func:`find_cycle` is there to prevent.
    """
    chain: list[str] = []
    seen = {employee_id}
    current = managers.get(employee_id)
    while current is not None:
        if current in seen:
            raise ReportingCycle(employee_id, (employee_id, *chain, current))
        chain.append(current)
        seen.add(current)
        if current not in managers:
            break
        current = managers[current]
    return tuple(chain)


def find_cycle(
    managers: ManagerLookup, employee_id: str, new_manager_id: str | None
) -> tuple[str, ...] | None:
    """The cycle that giving ``employee_id`` the manager ``new_manager_id`` would close, or None.

    The returned path starts and ends with ``employee_id``.
    """
    if new_manager_id is None:
        return None
    path = [employee_id]
    seen = {employee_id}
    current: str | None = new_manager_id
    while current is not None:
        path.append(current)
        if current == employee_id:
            return tuple(path)
        if current in seen:
            # A cycle above that does not pass through employee_id: pre-existing bad data, not ours.
            return None
        seen.add(current)
        current = managers.get(current)
    return None


def check_no_cycle(managers: ManagerLookup, employee_id: str, new_manager_id: str | None) -> None:
    """Raise :class:`ReportingCycle` if the manager change would close a cycle."""
    cycle = find_cycle(managers, employee_id, new_manager_id)
    if cycle is not None:
        raise ReportingCycle(employee_id, cycle)


class ReportsIndex:
    """Inverted reporting tree (manager -> direct reports) built once from a manager lookup.

    Build it once per batch of HRIS events when many managers change; for a single change
    :func:`reports_below` is enough. O(n) to build, O(size of the subtree) per query.
    """

    def __init__(self, direct_reports: Mapping[str, tuple[str, ...]]) -> None:
        self._direct = direct_reports

    @classmethod
    def from_managers(cls, managers: ManagerLookup) -> ReportsIndex:
        direct: dict[str, list[str]] = {}
        for employee_id, manager_id in managers.items():
            if manager_id is not None:
                direct.setdefault(manager_id, []).append(employee_id)
        return cls({manager: tuple(sorted(reports)) for manager, reports in direct.items()})

    def direct_reports(self, manager_id: str) -> tuple[str, ...]:
        return self._direct.get(manager_id, ())

    def all_below(self, manager_id: str) -> tuple[str, ...]:
        """Every employee whose management chain contains ``manager_id``, nearest first, each once."""
        found: dict[str, None] = {}
        queue = deque(self.direct_reports(manager_id))
        while queue:
            employee_id = queue.popleft()
            if employee_id in found or employee_id == manager_id:
                continue
            found[employee_id] = None
            queue.extend(self.direct_reports(employee_id))
        return tuple(found)

    def all_below_any(self, manager_ids: Iterable[str]) -> tuple[str, ...]:
        """Union of :meth:`all_below` for several managers (one batch of HRIS changes), each once."""
        found: dict[str, None] = {}
        for manager_id in manager_ids:
            for employee_id in self.all_below(manager_id):
                found.setdefault(employee_id, None)
        return tuple(found)


def reports_below(managers: ManagerLookup, manager_id: str) -> tuple[str, ...]:
    """Everyone whose chain goes through ``manager_id``: their chains change when its manager changes."""
    return ReportsIndex.from_managers(managers).all_below(manager_id)


class ReportingTree(ReportsIndex):
    """A tenant's whole reporting tree that stays current as managers change: employee -> manager
    (``managers``, the lookup the functions above take) and manager -> direct reports, both updated
    by :meth:`set_manager`. The HRIS consumer keeps one per tenant between batches, so chains, cycle
    checks and "everyone below" cost no database round trip.
    """

    def __init__(self, managers: Mapping[str, str | None]) -> None:
        self.managers: dict[str, str | None] = dict(managers)
        self._children: dict[str, set[str]] = {}
        for employee_id, manager_id in self.managers.items():
            if manager_id is not None:
                self._children.setdefault(manager_id, set()).add(employee_id)
        super().__init__({})

    def set_manager(self, employee_id: str, manager_id: str | None) -> None:
        """Record ``employee_id`` (known from now on) with its manager (None: top of the tree)."""
        if employee_id in self.managers:
            previous = self.managers[employee_id]
            if previous == manager_id:
                return
            if previous is not None:
                self._children[previous].discard(employee_id)
        self.managers[employee_id] = manager_id
        if manager_id is not None:
            self._children.setdefault(manager_id, set()).add(employee_id)

    def direct_reports(self, manager_id: str) -> tuple[str, ...]:
        return tuple(sorted(self._children.get(manager_id, ())))

    def manages_someone(self, employee_id: str) -> bool:
        return bool(self._children.get(employee_id))

    def chain(self, employee_id: str) -> tuple[str, ...]:
        return management_chain(self.managers, employee_id)
