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
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from jobs_service.app import create_app
from jobs_service.reports.service import CACHE_PREFIX
from jobs_service.settings import CelerySettings, Settings, WebhookSettings
from redis.asyncio import Redis
from service_common.deps import primary_session, read_session
from service_common.migrations import upgrade
from service_common.settings import DatabaseSettings, Environment, RedisSettings
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
    dsn = infra.create_database("jobs_service_tests")
    upgrade("jobs_service", dsn)
    return dsn


def make_settings(dsn: str, redis_url: str, **overrides: Any) -> Settings:
    """Return test settings on the test servers, with a queue of their own."""
    values: dict[str, Any] = {
        "environment": Environment.TEST,
        "db": DatabaseSettings(url=dsn, pool_size=4, max_overflow=2),
        "redis": RedisSettings(url=redis_url, socket_timeout_s=1.0),
        "celery": CelerySettings(queue=f"jobs-tests-{secrets.token_hex(4)}"),
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
    async with app.router.lifespan_context(app) as opened:
        yield dict(opened)


def asgi_with_state(app: FastAPI, state: dict[str, Any]) -> Any:
    """ASGITransport skips the lifespan; hand its state to each request as a server does."""

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        scope["state"] = dict(state)
        await app(scope, receive, send)

    return asgi


@asynccontextmanager
async def _serve(app: FastAPI) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any]]]:
    async with app.router.lifespan_context(app) as opened:
        state = dict(opened)
        transport = httpx.ASGITransport(app=asgi_with_state(app, state))
        async with httpx.AsyncClient(transport=transport, base_url="http://jobs") as client:
            yield client, state


@pytest.fixture(scope="session")
def serve() -> Callable[[FastAPI], AbstractAsyncContextManager[tuple[httpx.AsyncClient, Any]]]:
    """Return a context manager that runs an app's lifespan and yields (client, state)."""
    return _serve


@pytest.fixture
async def redis(state: dict[str, Any], settings: Settings) -> AsyncIterator[Redis]:
    client: Redis = state["redis"]
    yield client
    keys = [key async for key in client.scan_iter(match=f"{CACHE_PREFIX}:*")]
    await client.delete(settings.celery.queue, *keys)


@pytest.fixture
async def session(state: dict[str, Any]) -> AsyncIterator[AsyncSession]:
    async with state["db"].engine.connect() as connection:
        outer = await connection.begin()
        test_session = AsyncSession(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield test_session
        finally:
            await test_session.close()
            await outer.rollback()


@pytest.fixture
async def client(
    app: FastAPI, state: dict[str, Any], session: AsyncSession, redis: Redis
) -> AsyncIterator[httpx.AsyncClient]:
    async def in_test_transaction() -> AsyncIterator[AsyncSession]:
        yield session

    app.dependency_overrides[primary_session] = in_test_transaction
    app.dependency_overrides[read_session] = in_test_transaction
    try:
        transport = httpx.ASGITransport(app=asgi_with_state(app, state))
        async with httpx.AsyncClient(transport=transport, base_url="http://jobs") as test_client:
            yield test_client
    finally:
        app.dependency_overrides.clear()


@pytest.fixture
async def committing_client(
    app: FastAPI, state: dict[str, Any], redis: Redis
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=asgi_with_state(app, state))
    async with httpx.AsyncClient(transport=transport, base_url="http://jobs") as test_client:
        yield test_client
