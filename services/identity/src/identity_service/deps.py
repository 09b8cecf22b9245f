"""Request dependencies as `Annotated` aliases, read from the lifespan state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis
from service_common.db import session_scope
from service_common.tokens import TokenCodec
from sqlalchemy.ext.asyncio import AsyncSession

from identity_service.settings import Settings

# As a context manager, so an error raised in the route is thrown into session_scope and rolls
# back there; iterating it with `async for` would leave it suspended, holding its connection.
transaction = asynccontextmanager(session_scope)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Yield a primary-pool session that commits when the route succeeds."""
    async with transaction(request.state.db.sessions) as session:
        yield session


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Yield a session of the read pool (the replica's when one is configured)."""
    async with transaction(request.state.db.read_sessions) as session:
        yield session


def get_redis(request: Request) -> Redis:
    """Return the process's Redis client."""
    redis: Redis = request.state.redis
    return redis


def get_tokens(request: Request) -> TokenCodec:
    """Return the process's token codec."""
    tokens: TokenCodec = request.state.tokens
    return tokens


def get_settings(request: Request) -> Settings:
    """Return the settings the app was built with."""
    settings: Settings = request.state.settings
    return settings


# scope="function": commit before the response is sent, so a caller that gets a 2xx can rely on
# the write (core_api logs in right after registering).
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]
RedisDep = Annotated[Redis, Depends(get_redis)]
TokensDep = Annotated[TokenCodec, Depends(get_tokens)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
