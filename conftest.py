"""Fixtures shared by every test folder: real PostgreSQL and Redis, started once per session.

`provide_infra` picks existing servers (DATABASE_URL/REDIS_URL), Docker through testcontainers,
or the embedded default (PostgreSQL and Redis from wheels), and stops what it started. Running
layouts come from `stacks`, which keeps at most one alive: both layouts share the one Redis, and
starting a layout empties it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from stack_launcher.infra import Infra, provide_infra
from stack_launcher.pool import StackPool
from stack_launcher.stack import Stack


@pytest.fixture(scope="session")
def workdir() -> Iterator[Path]:
    """A scratch tree the embedded PostgreSQL can enter: it runs as an unprivileged user when
    the suite runs as root, and pytest's own temporary tree is private to root."""
    path = Path(tempfile.mkdtemp(prefix="refactor-lab-tests-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def infra(workdir: Path) -> Iterator[Infra]:
    with provide_infra(workdir / "infra") as provided:
        yield provided


@pytest.fixture(scope="session")
def stacks(infra: Infra, workdir: Path) -> Iterator[StackPool]:
    running = StackPool(infra, workdir / "stacks")
    yield running
    running.close()


@pytest.fixture
def after_stack(stacks: StackPool) -> Stack:
    return stacks.get("after")


@pytest.fixture
def before_stack(stacks: StackPool) -> Stack:
    return stacks.get("before")
