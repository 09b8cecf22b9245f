"""User-service fixtures: real migrations on a fresh database, one rolled-back transaction per test.

Each test's requests run in savepoints of one outer transaction on one connection, rolled back
after the test. Statement counts are measured with `committed_client`, on the real pools (the
savepoints would add statements production does not run); `committed_users` cleans up after it.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from service_common import testing
from service_common.settings import DatabaseSettings, RedisSettings
from sqlalchemy import text
from stack_launcher.infra import Infra
from user_service.app import create_app
from user_service.settings import Settings

CACHE_PREFIX = "user-tests"
ALLOWED_WEBHOOK_HOST = "127.0.0.1:18090"

CreateUser = Callable[..., Awaitable[int]]


@pytest.fixture(scope="session")
def settings(infra: Infra) -> Settings:
    dsn = testing.migrate_database(infra.create_database, "user_service_tests", "user_service")
    return Settings(
        environment="test",
        db=DatabaseSettings(url=dsn, pool_size=3, max_overflow=0),
        redis=RedisSettings(url=infra.redis_url),
        cache_prefix=CACHE_PREFIX,
        webhook_allowed_hosts=[ALLOWED_WEBHOOK_HOST],
    )


@pytest.fixture(scope="session")
async def running(settings: Settings) -> AsyncIterator[testing.RunningApp]:
    app = create_app(settings)
    async with testing.running_app(app, base_url="http://user", reset=_flush_cache) as running:
        yield running


# connection: the test's transaction, rolled back after it; client: requests in savepoints of it;
# committed_client: requests on the real pools, so tests delete what they write with it.
state, connection, client, committed_client = testing.per_test_fixtures()


@pytest.fixture
async def create_user(client: httpx.AsyncClient) -> CreateUser:
    """Create a user (in the test's transaction); return its id."""
    return _creator(client, [])


@pytest.fixture
async def committed_users(
    committed_client: httpx.AsyncClient, state: dict[str, Any]
) -> AsyncIterator[CreateUser]:
    """Create committed users; delete them and their events after the test."""
    created: list[int] = []
    yield _creator(committed_client, created)
    async with state["db"].engine.begin() as conn:
        params = {"ids": created}
        await conn.execute(
            text("DELETE FROM users.events WHERE user_id = ANY(:ids) OR actor_id = ANY(:ids)"),
            params,
        )
        await conn.execute(text("DELETE FROM users.profiles WHERE user_id = ANY(:ids)"), params)


def _creator(http: httpx.AsyncClient, created: list[int]) -> CreateUser:
    async def create(display_name: str = "Ada", user_id: int | None = None) -> int:
        user_id = user_id or 10_000_000 + secrets.randbelow(10**9)
        response = await http.post(
            "/internal/users",
            json={"id": user_id, "email": f"u{user_id}@example.com", "display_name": display_name},
        )
        assert response.status_code == 201, response.text
        created.append(user_id)
        return user_id

    return create


async def _flush_cache(state: dict[str, Any]) -> None:
    await testing.delete_keys(state["redis"], f"{CACHE_PREFIX}:*")
