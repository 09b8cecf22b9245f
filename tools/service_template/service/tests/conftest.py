"""Fixtures: real migrations on a fresh database, one rolled-back transaction per test.

Each test's requests run in savepoints of one outer transaction on one connection, rolled back
after the test. `committed_client` uses the real pools, for what savepoints would distort
(statement counts, the cache); tests that use it delete what they create.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from service_common import testing
from service_common.settings import DatabaseSettings, RedisSettings
from skeleton_service.app import create_app
from skeleton_service.settings import Settings
from stack_launcher.infra import Infra

CACHE_PREFIX = "skeleton-tests"


@pytest.fixture(scope="session")
def settings(infra: Infra) -> Settings:
    dsn = testing.migrate_database(
        infra.create_database, "skeleton_service_tests", "skeleton_service"
    )
    return Settings(
        environment="test",
        db=DatabaseSettings(url=dsn, pool_size=2, max_overflow=0),
        redis=RedisSettings(url=infra.redis_url),
        cache_prefix=CACHE_PREFIX,
    )


@pytest.fixture(scope="session")
async def running(settings: Settings) -> AsyncIterator[testing.RunningApp]:
    app = create_app(settings)
    async with testing.running_app(app, reset=_flush_cache) as running:
        yield running


# connection: the test's transaction, rolled back after it; client: requests in savepoints of it;
# committed_client: requests on the real pools, so tests delete what they write with it.
state, connection, client, committed_client = testing.per_test_fixtures()


async def _flush_cache(state: dict[str, Any]) -> None:
    await testing.delete_keys(state["redis"], f"{CACHE_PREFIX}:*")
