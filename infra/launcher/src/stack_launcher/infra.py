"""Provide PostgreSQL and Redis: existing servers, Docker containers or embedded binaries."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from stack_launcher import pg
from stack_launcher.containers import docker_available, docker_servers
from stack_launcher.embedded import EmbeddedServers

log = logging.getLogger(__name__)

InfraKind = Literal["external", "docker", "embedded"]
INFRA_KINDS: tuple[InfraKind, ...] = ("external", "docker", "embedded")

# Set to external|docker|embedded to skip the automatic choice.
INFRA_OVERRIDE_ENV = "STACK_INFRA"


class UnsupportedOperation(RuntimeError):
    """A fault-injection call that only the embedded servers support."""


@dataclass
class Infra:
    """Running PostgreSQL and Redis, and what tests may do to them."""

    kind: InfraKind
    admin_dsn: str
    redis_url: str
    _embedded: EmbeddedServers | None = field(default=None, repr=False)

    def database_dsn(self, name: str) -> str:
        """Return the DSN of a database on this server."""
        return pg.dsn_for_database(self.admin_dsn, pg.check_database_name(name))

    def create_database(self, name: str) -> str:
        """Create a fresh database (dropping an old one) with pg_stat_statements; return its DSN."""
        dsn = pg.create_database(self.admin_dsn, name)
        if self.kind == "external":
            _warn_without_pg_stat_statements(self.admin_dsn)
        return dsn

    def drop_database(self, name: str) -> None:
        """Drop a database, ending its open connections."""
        pg.drop_database(self.admin_dsn, name)

    def stop_redis(self) -> None:
        """Stop Redis (embedded kind only)."""
        self._servers("stop_redis").stop_redis()

    def start_redis(self) -> None:
        """Start Redis again, empty, on the same port (embedded kind only)."""
        self._servers("start_redis").start_redis()

    def restart_postgres(self) -> None:
        """Restart PostgreSQL on the same port with the same data (embedded kind only)."""
        self._servers("restart_postgres").restart_postgres()

    @property
    def embedded(self) -> EmbeddedServers | None:
        """Return the embedded servers (their supervisor, pids, logs), if this kind has them."""
        return self._embedded

    def _servers(self, operation: str) -> EmbeddedServers:
        if self._embedded is None:
            raise UnsupportedOperation(f"{operation} needs the embedded infra, not {self.kind}")
        return self._embedded


def choose_kind() -> InfraKind:
    """Return which kind of infra to provide, following the documented order."""
    override = os.environ.get(INFRA_OVERRIDE_ENV)
    if override:
        if override not in INFRA_KINDS:
            raise ValueError(f"{INFRA_OVERRIDE_ENV}={override!r}; expected one of {INFRA_KINDS}")
        return override
    if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"):
        return "external"
    if docker_available():
        return "docker"
    return "embedded"


@contextmanager
def provide_infra(workdir: Path) -> Iterator[Infra]:
    """Yield running PostgreSQL and Redis; stop whatever was started on exit."""
    kind = choose_kind()
    log.info("infra: %s", kind)
    if kind == "external":
        yield _external()
    elif kind == "docker":
        with docker_servers() as servers:
            pg.wait_until_accepting(servers.admin_dsn)
            yield Infra("docker", servers.admin_dsn, servers.redis_url)
    else:
        workdir.mkdir(parents=True, exist_ok=True)
        with EmbeddedServers(workdir) as embedded:
            yield Infra("embedded", embedded.admin_dsn, embedded.redis_url, embedded)


def _external() -> Infra:
    database_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    if not database_url or not redis_url:
        raise RuntimeError("external infra needs both DATABASE_URL and REDIS_URL")
    # The given role must be allowed to create databases: each layout gets a fresh one.
    return Infra("external", pg.plain_dsn(database_url), redis_url)


def _warn_without_pg_stat_statements(admin_dsn: str) -> None:
    preloaded = str(pg.fetchval(admin_dsn, "SHOW shared_preload_libraries"))
    if "pg_stat_statements" not in preloaded:
        log.warning(
            "the external PostgreSQL does not preload pg_stat_statements; "
            "statement counts in the bench evidence will be missing"
        )
