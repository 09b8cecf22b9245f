"""Fixtures shared by every test folder: real PostgreSQL and Redis, started once per session.

`provide_infra` picks existing servers (DATABASE_URL/REDIS_URL), Docker through testcontainers,
or the embedded default (PostgreSQL and Redis from wheels), and stops what it started.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from stack_launcher.infra import Infra, provide_infra


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    with tempfile.TemporaryDirectory(prefix="refactor-lab-tests-") as workdir:
        with provide_infra(Path(workdir)) as provided:
            yield provided
