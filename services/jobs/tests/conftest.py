"""Jobs service fixtures: one migrated database, the app with its lifespan, per-test rollback.

Two clients: `client` runs each test inside a transaction that is rolled back (fast, isolated);
`committing_client` uses the app's own pools, for what needs real commits (concurrent requests,
statement counts without the test's savepoints, a real worker reading the rows). Tests with the
latter use a fresh user id each, so they never see each other's rows.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from functools import partial
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from jobs_service.app import create_app
from jobs_service.reports.service import CACHE_PREFIX
from jobs_service.settings import CelerySettings, Settings, WebhookSettings
from redis.asyncio import Redis
from service_common.settings import DatabaseSettings, Environment, RedisSettings
from service_common.testing import (
    asgi_client,
    lifespan_state,
    migrate_database,
    outer_transaction,
    shared_session,
)
from service_common.testing import serve as serve_app
from sqlalchemy.ext.asyncio import AsyncSession
from stack_launcher.infra import Infra

WEBHOOK_SECRET = secrets.token_urlsafe(32)
_user_ids = itertools.count(secrets.randbelow(10**9) * 1000 + 1)


@pytest.fixture(scope="session")
def new_user_id() -> Callable[[], int]:
    """Return a maker of user ids no other test of this session uses."""
    return lambda: next(_user_ids)


@pytest.fixture
def user_id(new_user_id: Callable[[], int]) -> int:
    return new_user_id()


@pytest.fixture(scope="session")
def jobs_dsn(infra: Infra) -> str:
    return migrate_database(infra.create_database, "jobs_service_tests", "jobs_service")


def make_settings(dsn: str, redis_url: str, **overrides: Any) -> Settings:
    """Return test settings on the test servers, with a queue of their own."""
    values: dict[str, Any] = {
        "environment": Environment.TEST,
        "db": DatabaseSettings(url=dsn, pool_size=4, max_overflow=2),
        "redis": RedisSettings(url=redis_url, socket_timeout_s=1.0),
        # The sweeper would publish other tests' unconsumed reports; its own tests run it.
        "celery": CelerySettings(queue=f"jobs-tests-{secrets.token_hex(4)}", redispatch=False),
        "webhook": WebhookSettings(secret=WEBHOOK_SECRET),
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def settings(jobs_dsn: str, infra: Infra) -> Settings:
    return make_settings(jobs_dsn, infra.redis_url)


@pytest.fixture(scope="session")
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture(scope="session")
async def state(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    async with lifespan_state(app) as opened:
        yield opened


@pytest.fixture(scope="session")
def serve() -> Callable[[FastAPI], AbstractAsyncContextManager[tuple[httpx.AsyncClient, Any]]]:
    """Return a context manager that runs an app's lifespan and yields (client, state)."""
    return partial(serve_app, base_url="http://jobs")


@pytest.fixture
async def redis(state: dict[str, Any], settings: Settings) -> AsyncIterator[Redis]:
    client: Redis = state["redis"]
    yield client
    keys = [key async for key in client.scan_iter(match=f"{CACHE_PREFIX}:*")]
    await client.delete(settings.celery.queue, *keys)


@pytest.fixture
async def session(state: dict[str, Any]) -> AsyncIterator[AsyncSession]:
    async with outer_transaction(state["db"].engine) as connection:
        test_session = AsyncSession(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield test_session
        finally:
            await test_session.close()


@pytest.fixture
async def client(
    app: FastAPI, state: dict[str, Any], session: AsyncSession, redis: Redis
) -> AsyncIterator[httpx.AsyncClient]:
    with shared_session(app, session):
        async with asgi_client(app, state, base_url="http://jobs") as test_client:
            yield test_client


@pytest.fixture
async def committing_client(
    app: FastAPI, state: dict[str, Any], redis: Redis
) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app, state, base_url="http://jobs") as test_client:
        yield test_client
