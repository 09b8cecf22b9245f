"""Request dependencies as `Annotated` aliases, read from the lifespan state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis
from service_common.deps import ReadSessionDep as ReadSessionDep  # re-exported for routers
from service_common.deps import SessionDep as SessionDep
from service_common.tokens import TokenCodec

from identity_service.settings import Settings


# `async def`: FastAPI runs a plain `def` dependency in its thread pool on every request.
async def get_redis(request: Request) -> Redis:
    """Return the process's Redis client."""
    redis: Redis = request.state.redis
    return redis


async def get_tokens(request: Request) -> TokenCodec:
    """Return the process's token codec."""
    tokens: TokenCodec = request.state.tokens
    return tokens


async def get_settings(request: Request) -> Settings:
    """Return the settings the app was built with."""
    settings: Settings = request.state.settings
    return settings


RedisDep = Annotated[Redis, Depends(get_redis)]
TokensDep = Annotated[TokenCodec, Depends(get_tokens)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
