"""Identity fixtures: real migrations on a fresh database, one rolled-back transaction per test.

Each test's requests run in savepoints of one outer transaction on one connection, which is rolled
back after the test; `committed_client` skips that for the few tests that need real concurrency.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from identity_service.app import create_app
from identity_service.settings import Settings
from service_common import testing
from service_common.revocation import KEY_PREFIX
from service_common.settings import DatabaseSettings, JWTSettings, RedisSettings
from service_common.tokens import TokenCodec
from stack_launcher.infra import Infra

TEST_SECRET = "identity-tests-secret-of-at-least-32-bytes"
ACCESS_TTL_S = 120


@pytest.fixture(scope="session")
def settings(infra: Infra) -> Settings:
    dsn = testing.migrate_database(
        infra.create_database, "identity_service_tests", "identity_service"
    )
    return Settings(
        environment="test",
        db=DatabaseSettings(url=dsn, pool_size=4, max_overflow=0),
        redis=RedisSettings(url=infra.redis_url),
        jwt=JWTSettings(secret=TEST_SECRET, access_ttl_s=ACCESS_TTL_S, refresh_ttl_s=3600),
    )


@pytest.fixture(scope="session")
def tokens(settings: Settings) -> TokenCodec:
    jwt = settings.jwt
    return TokenCodec(jwt.secret.get_secret_value(), issuer=jwt.issuer, audience=jwt.audience)


@pytest.fixture(scope="session")
async def running(settings: Settings) -> AsyncIterator[testing.RunningApp]:
    app = create_app(settings)
    async with testing.running_app(
        app, base_url="http://identity", reset=_flush_revocations
    ) as running:
        yield running


# connection: the test's transaction, rolled back after it; client: requests in savepoints of it;
# committed_client: requests on the real pools, so tests delete what they write with it.
state, connection, client, committed_client = testing.per_test_fixtures()


async def _flush_revocations(state: dict[str, Any]) -> None:
    await testing.delete_keys(state["redis"], f"{KEY_PREFIX}*")
