"""Open and close what a service holds for its lifetime: DB engines, Redis, the HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from service_common.db import engine_from_settings, session_factory
from service_common.http import create_http_client
from service_common.redis import redis_from_settings
from service_common.settings import DatabaseSettings, RedisSettings


@dataclass(frozen=True, slots=True)
class Database:
    """The primary pool, and the read pool (the replica's, or the primary's when none)."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    read_engine: AsyncEngine
    read_sessions: async_sessionmaker[AsyncSession]


@dataclass(frozen=True, slots=True)
class ReadinessCheck:
    name: str
    probe: Callable[[Any], Awaitable[None]]


@asynccontextmanager
async def open_database(settings: DatabaseSettings, *, name: str) -> AsyncIterator[Database]:
    """Create the pools; dispose them on exit."""
    engine = engine_from_settings(settings, application_name=name)
    read_engine = (
        engine_from_settings(settings, application_name=f"{name}-read", read_replica=True)
        if settings.read_url
        else engine
    )
    try:
        yield Database(engine, session_factory(engine), read_engine, session_factory(read_engine))
    finally:
        if read_engine is not engine:
            await read_engine.dispose()
        await engine.dispose()


@asynccontextmanager
async def open_redis(settings: RedisSettings) -> AsyncIterator[Redis]:
    """Create the process's Redis client; close its pool on exit."""
    client = redis_from_settings(settings)
    try:
        yield client
    finally:
        await client.aclose()


@asynccontextmanager
async def open_http(**options: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Create the process's shared HTTP client; close its pool on exit."""
    client = create_http_client(**options)
    try:
        yield client
    finally:
        await client.aclose()


async def _probe_database(state: Any) -> None:
    async with state.db.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _probe_redis(state: Any) -> None:
    await state.redis.ping()


DATABASE_READY = ReadinessCheck("database", _probe_database)
REDIS_READY = ReadinessCheck("redis", _probe_redis)
