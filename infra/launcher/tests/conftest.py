"""Fixtures: one embedded PostgreSQL + Redis for the session, helpers to run small processes."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from unittest import mock

import pytest
from stack_launcher.infra import Infra, provide_infra

InfraEnv = Callable[..., AbstractContextManager[None]]


@contextmanager
def _infra_env(**values: str) -> Iterator[None]:
    cleared = {"DATABASE_URL": "", "REDIS_URL": "", "STACK_INFRA": ""}
    with mock.patch.dict(os.environ, {**cleared, **values}):
        yield


@pytest.fixture(scope="session")
def infra_env() -> InfraEnv:
    """Return a context manager setting the variables that steer provide_infra()."""
    return _infra_env


@pytest.fixture(scope="session")
def embedded_infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infra]:
    """Yield embedded servers shared by the tests that do not stop or restart them."""
    with (
        _infra_env(STACK_INFRA="embedded"),
        provide_infra(tmp_path_factory.mktemp("infra")) as infra,
    ):
        yield infra


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """Return a fresh working directory for one test."""
    return tmp_path
