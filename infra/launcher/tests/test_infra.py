"""provide_infra(): embedded servers, fault injection, external and Docker paths."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import psutil
import pytest
import redis
from stack_launcher import pg
from stack_launcher.containers import docker_available
from stack_launcher.infra import Infra, UnsupportedOperation, choose_kind, provide_infra

InfraEnv = Callable[..., AbstractContextManager[None]]


def test_embedded_infra_creates_database_with_pg_stat_statements(embedded_infra: Infra) -> None:
    assert embedded_infra.kind == "embedded"
    assert embedded_infra.admin_dsn.startswith("postgresql://postgres@127.0.0.1:")

    dsn = embedded_infra.create_database("launcher_stats")

    assert dsn.endswith("/launcher_stats")
    assert pg.fetchval(
        dsn, "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'"
    )
    assert pg.fetchval(dsn, "SELECT count(*) FROM pg_stat_statements") >= 0
    assert pg.fetchval(dsn, "SHOW max_connections") == "400"
    assert pg.fetchval(dsn, "SHOW pg_stat_statements.track") == "all"


def test_create_database_replaces_an_existing_one(embedded_infra: Infra) -> None:
    dsn = embedded_infra.create_database("launcher_fresh")
    pg.execute(dsn, "CREATE TABLE leftover (id int)")

    dsn = embedded_infra.create_database("launcher_fresh")

    assert pg.fetchval(dsn, "SELECT to_regclass('leftover')") is None
    embedded_infra.drop_database("launcher_fresh")
    assert not pg.fetchval(
        embedded_infra.admin_dsn,
        "SELECT count(*) FROM pg_database WHERE datname = 'launcher_fresh'",
    )


def test_database_names_are_checked(embedded_infra: Infra) -> None:
    with pytest.raises(ValueError, match="invalid database name"):
        embedded_infra.create_database("x; DROP DATABASE postgres")


def test_embedded_redis_answers_ping(embedded_infra: Infra) -> None:
    with redis.Redis.from_url(embedded_infra.redis_url) as client:
        assert client.ping()


def test_faults_restart_postgres_keeps_data_and_redis_comes_back(
    tmp_path: Path, infra_env: InfraEnv
) -> None:
    with infra_env(STACK_INFRA="embedded"), provide_infra(tmp_path) as infra:
        dsn = infra.create_database("launcher_durable")
        pg.execute(dsn, "CREATE TABLE kept (v text)", "INSERT INTO kept VALUES ('still here')")
        assert infra.embedded is not None
        old_pid = infra.embedded.supervisor.pid("postgres")

        infra.restart_postgres()

        assert infra.embedded.supervisor.pid("postgres") != old_pid
        assert pg.fetchval(dsn, "SELECT v FROM kept") == "still here"

        infra.stop_redis()
        with redis.Redis.from_url(infra.redis_url) as client, pytest.raises(redis.ConnectionError):
            client.ping()
        infra.start_redis()
        with redis.Redis.from_url(infra.redis_url) as client:
            assert client.ping()


def test_exit_leaves_no_process_behind_even_on_keyboard_interrupt(
    tmp_path: Path, infra_env: InfraEnv
) -> None:
    pids: list[int] = []
    with pytest.raises(KeyboardInterrupt):
        with infra_env(STACK_INFRA="embedded"), provide_infra(tmp_path) as infra:
            assert infra.embedded is not None
            for name in ("postgres", "redis"):
                leader = psutil.Process(infra.embedded.supervisor.pid(name))
                pids += [leader.pid, *(child.pid for child in leader.children(recursive=True))]
            assert len(pids) > 2  # the postmaster forks its background workers
            data_dir = infra.embedded.root
            assert (data_dir / "pgdata" / "PG_VERSION").exists()
            raise KeyboardInterrupt

    assert [pid for pid in pids if psutil.pid_exists(pid)] == []
    assert not data_dir.exists(), "the data dir is removed"


def test_external_infra_uses_the_given_servers(
    embedded_infra: Infra, tmp_path: Path, infra_env: InfraEnv
) -> None:
    database_url = embedded_infra.admin_dsn.replace("postgresql://", "postgresql+asyncpg://")
    with infra_env(DATABASE_URL=database_url, REDIS_URL=embedded_infra.redis_url):
        assert choose_kind() == "external"
        with provide_infra(tmp_path) as infra:
            assert infra.kind == "external"
            assert infra.admin_dsn == embedded_infra.admin_dsn  # driver suffix stripped
            dsn = infra.create_database("launcher_external")
            assert pg.fetchval(dsn, "SELECT current_database()") == "launcher_external"
            with pytest.raises(UnsupportedOperation, match="embedded"):
                infra.restart_postgres()
            infra.drop_database("launcher_external")
    assert list(tmp_path.iterdir()) == [], "external infra starts nothing"


def test_without_docker_the_embedded_kind_is_chosen(infra_env: InfraEnv) -> None:
    with infra_env(DOCKER_HOST="unix:///nonexistent/docker.sock"):
        assert not docker_available()
        assert choose_kind() == "embedded"


def test_unknown_override_is_refused(infra_env: InfraEnv) -> None:
    with infra_env(STACK_INFRA="cloud"), pytest.raises(ValueError, match="external"):
        choose_kind()


@pytest.mark.docker
def test_docker_infra_runs_containers(tmp_path: Path, infra_env: InfraEnv) -> None:
    if not docker_available():
        pytest.skip("no Docker engine reachable")
    with infra_env(STACK_INFRA="docker"):
        with provide_infra(tmp_path) as infra:
            assert infra.kind == "docker"
            dsn = infra.create_database("launcher_docker")
            assert pg.fetchval(dsn, "SELECT count(*) FROM pg_stat_statements") >= 0
            with redis.Redis.from_url(infra.redis_url) as client:
                assert client.ping()
