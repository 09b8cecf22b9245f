"""The probe counts one request type's statements alone, after earlier work has finished."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg2
import pytest
from bench_harness.database import Postgres
from bench_harness.probe import wait_until_quiet
from stack_launcher.infra import Infra


@pytest.fixture
def postgres(infra: Infra) -> Iterator[Postgres]:
    harness = Postgres(infra.create_database("bench_probe"))
    yield harness
    harness.close()
    infra.drop_database("bench_probe")


def _sleep_in_postgres(dsn: str, seconds: float) -> threading.Thread:
    def run() -> None:
        with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(%s)", (seconds,))
        connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _wait_until_busy(postgres: Postgres) -> None:
    deadline = time.monotonic() + 10
    while not postgres.busy():
        assert time.monotonic() < deadline, "the sleeping statement never started"
        time.sleep(0.02)


def test_the_probe_waits_for_a_statement_still_running(postgres: Postgres, infra: Infra) -> None:
    sleeper = _sleep_in_postgres(infra.database_dsn("bench_probe"), 1.0)
    _wait_until_busy(postgres)

    started = time.monotonic()
    assert wait_until_quiet(postgres, timeout_s=10) == 0
    assert time.monotonic() - started >= 0.5  # it waited for pg_sleep, not just returned
    sleeper.join()


def test_the_probe_reports_work_that_outlasts_its_patience(
    postgres: Postgres, infra: Infra
) -> None:
    sleeper = _sleep_in_postgres(infra.database_dsn("bench_probe"), 2.0)
    _wait_until_busy(postgres)

    assert wait_until_quiet(postgres, timeout_s=0.2) == 1
    sleeper.join()
    assert wait_until_quiet(postgres, timeout_s=0.2) == 0
