"""The user app: profiles, preferences and activity events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from service_common.app import create_app as create_service_app
from service_common.cache import Cache
from service_common.resources import DATABASE_READY, REDIS_READY, open_database, open_redis

from user_service.events.router import router as events_router
from user_service.profiles.router import router as profiles_router
from user_service.settings import Settings

NAME = "user"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; pools open when its lifespan starts."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        async with (
            open_database(settings.db, name=NAME) as db,
            open_redis(settings.redis) as redis,
        ):
            cache = Cache(redis, prefix=settings.cache_prefix, enabled=settings.cache_enabled)
            yield {"db": db, "redis": redis, "cache": cache, "settings": settings}

    return create_service_app(
        name=NAME,
        settings=settings,
        lifespan=lifespan,
        routers=[profiles_router, events_router],
        readiness=[DATABASE_READY, REDIS_READY],
    )
