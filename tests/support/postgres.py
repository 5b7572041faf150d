"""A throwaway PostgreSQL server for tests: its own cluster in a temp dir, on 127.0.0.1, trust auth.

The server binaries come from the distribution package (``deploy/postgres/install.sh`` installs it). The
cluster never runs as root (PostgreSQL refuses to): when the tests run as root, initdb and the server run
as the ``postgres`` user (or ``nobody`` when there is none) in a temp dir handed over to that user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

SUPERUSER = "postgres"
HOST = "127.0.0.1"
# The cluster is thrown away after the run: durability buys nothing here and costs seconds.
THROWAWAY_SETTINGS = {
    "listen_addresses": f"'{HOST}'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}


@dataclass(frozen=True)
class PostgresServer:
    """A running cluster; each test asks for a database of its own."""

    port: int
    bin_dir: Path

    def dsn(self, database: str) -> str:
        """The SQLAlchemy async URL the services take (``MENTORING_<SERVICE>_DATABASE_URL``)."""
        return f"postgresql+asyncpg://{SUPERUSER}@{HOST}:{self.port}/{database}"

    def libpq_dsn(self, database: str) -> str:
        """The same database for asyncpg or psql."""
        return f"postgresql://{SUPERUSER}@{HOST}:{self.port}/{database}"

    async def create_database(self, prefix: str = "test") -> str:
        """A fresh, empty database; returns its SQLAlchemy async URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        connection = await asyncpg.connect(self.libpq_dsn("postgres"))
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        return self.dsn(name)


async def fetch(url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    """Run one query on the database of a SQLAlchemy URL, straight through asyncpg."""
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


def find_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin with initdb and pg_ctl, else one on PATH."""

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))

    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    initdb_on_path = shutil.which("initdb")
    if initdb_on_path:
        candidates.append(Path(initdb_on_path).resolve().parent)
    for bin_dir in candidates:
        if (bin_dir / "initdb").is_file() and (bin_dir / "pg_ctl").is_file():
            return bin_dir
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _cluster_owner() -> pwd.struct_passwd | None:
    """Whom the cluster runs as: ourselves, unless we are root (the server refuses to run as root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' user exists")


class _Cluster:
    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.owner = _cluster_owner()
        parent = tempfile.gettempdir()
        if self.owner is not None and not os.stat(parent).st_mode & stat.S_IXOTH:
            parent = "/tmp"  # the cluster's owner must be able to reach its directory
        self.root = Path(tempfile.mkdtemp(prefix="mentoring-pg-", dir=parent))
        if self.owner is not None:
            os.chown(self.root, self.owner.pw_uid, self.owner.pw_gid)
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        owner: dict[str, Any] = {}
        if self.owner is not None:
            owner = {"user": self.owner.pw_uid, "group": self.owner.pw_gid, "extra_groups": []}
        return subprocess.run(
            [str(self.bin_dir / args[0]), *args[1:]],
            cwd=self.root,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            **owner,
        )

    def init(self) -> None:
        done = self.run(
            "initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8", "--locale=C"
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed ({done.returncode}): {done.stderr or done.stdout}")
        with (self.data / "postgresql.conf").open("a") as conf:
            for name, value in THROWAWAY_SETTINGS.items():
                conf.write(f"{name} = {value}\n")
            # The socket lives in our temp dir: /var/run/postgresql may be missing or not ours.
            conf.write(f"unix_socket_directories = '{self.root}'\n")

    def start(self, attempts: int = 3) -> None:
        """Start on a free port; another process may grab the port first, so try a few."""
        failure = ""
        for _ in range(attempts):
            self.port = _free_port()
            done = self.run(
                "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                "-o", f"-p {self.port}", "start",
            )  # fmt: skip
            if done.returncode == 0:
                return
            failure = f"{done.stderr or done.stdout}\n{self.log_tail()}"
        raise RuntimeError(f"PostgreSQL did not start: {failure}")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole session; ``create_database()`` gives each test its own.

    When the server binaries are not installed (run ``deploy/postgres/install.sh``) the tests that use it
    are SKIPPED, except when the environment sets ``CI`` or ``MENTORING_REQUIRE_POSTGRES``: then they
    FAIL, so a CI run cannot pass without having tested on PostgreSQL.
    """
    bin_dir = find_bin_dir()
    if bin_dir is None:
        reason = (
            "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin "
            "or on PATH; install them with deploy/postgres/install.sh"
        )
        if os.environ.get("CI") or os.environ.get("MENTORING_REQUIRE_POSTGRES"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    cluster = _Cluster(bin_dir)
    try:
        cluster.init()
        cluster.start()
        yield PostgresServer(port=cluster.port, bin_dir=bin_dir)
    finally:
        cluster.stop()
