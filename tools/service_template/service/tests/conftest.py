"""Fixtures: real migrations on a fresh database, one rolled-back transaction per test.

Each test's requests run in savepoints of one outer transaction on one connection, rolled back
after the test. `committed_client` uses the real pools, for what savepoints would distort
(statement counts, the cache); tests that use it delete what they create.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from service_common.db import session_scope
from service_common.deps import primary_session, read_session
from service_common.migrations import upgrade
from service_common.settings import DatabaseSettings, RedisSettings
from skeleton_service.app import create_app
from skeleton_service.settings import Settings
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from stack_launcher.infra import Infra

CACHE_PREFIX = "skeleton-tests"


@pytest.fixture(scope="session")
def settings(infra: Infra) -> Settings:
    dsn = infra.create_database("skeleton_service_tests")
    # upgrade() runs its own event loop; keep it off the test loop's thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(upgrade, "skeleton_service", dsn).result()
    return Settings(
        environment="test",
        db=DatabaseSettings(url=dsn, pool_size=2, max_overflow=0),
        redis=RedisSettings(url=infra.redis_url),
        cache_prefix=CACHE_PREFIX,
    )


@pytest.fixture(scope="session")
async def running(settings: Settings) -> AsyncIterator[tuple[FastAPI, dict[str, Any]]]:
    app = create_app(settings)
    async with app.router.lifespan_context(app) as state:
        yield app, dict(state)


@pytest.fixture
def state(running: tuple[FastAPI, dict[str, Any]]) -> dict[str, Any]:
    return running[1]


@pytest.fixture
async def connection(running: tuple[FastAPI, dict[str, Any]]) -> AsyncIterator[AsyncConnection]:
    """A connection inside an outer transaction that is rolled back after the test."""
    _, state = running
    async with state["db"].engine.connect() as conn:
        outer = await conn.begin()
        try:
            yield conn
        finally:
            await outer.rollback()


@pytest.fixture
async def client(
    running: tuple[FastAPI, dict[str, Any]], connection: AsyncConnection
) -> AsyncIterator[httpx.AsyncClient]:
    app, state = running
    factory = async_sessionmaker(
        bind=connection,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
    )

    async def test_session() -> AsyncIterator[AsyncSession]:
        async with session_scope(factory) as session:
            yield session

    app.dependency_overrides[primary_session] = test_session
    app.dependency_overrides[read_session] = test_session
    await _flush_cache(state)
    try:
        async with _client(app, state) as http:
            yield http
    finally:
        app.dependency_overrides.clear()


@pytest.fixture
async def committed_client(
    running: tuple[FastAPI, dict[str, Any]],
) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the real pools: writes commit, so tests must delete what they create."""
    app, state = running
    await _flush_cache(state)
    async with _client(app, state) as http:
        yield http


def _with_state(app: FastAPI, state: dict[str, Any]) -> Any:
    """Hand the lifespan state to each request, as a server would (ASGITransport does not)."""

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        scope["state"] = dict(state)
        await app(scope, receive, send)

    return asgi


def _client(app: FastAPI, state: dict[str, Any]) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=_with_state(app, state))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def _flush_cache(state: dict[str, Any]) -> None:
    redis = state["redis"]
    keys = [key async for key in redis.scan_iter(match=f"{CACHE_PREFIX}:*")]
    if keys:
        await redis.delete(*keys)
