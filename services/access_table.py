"""The README's access table, made from the four services' access tables (entrypoints/access.py):
each RPC, who may call it, on which objects. ``python -m services.access_table`` prints it; a unit test
keeps the README's copy equal to it."""

from __future__ import annotations

import sys

from services.enrollment.entrypoints.access import ACCESS as ENROLLMENT
from services.matching.entrypoints.access import ACCESS as MATCHING
from services.notification.entrypoints.access import ACCESS as NOTIFICATION
from services.session.entrypoints.access import ACCESS as SESSION
from services.shared.rpc_access import AccessTable, markdown_table

TABLES: tuple[AccessTable, ...] = (ENROLLMENT, MATCHING, SESSION, NOTIFICATION)


def table() -> str:
    return markdown_table(TABLES)


if __name__ == "__main__":
    sys.stdout.write(table() + "\n")
