"""The identity app: accounts, login, token rotation and session revocation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from service_common.app import create_app as create_service_app
from service_common.resources import DATABASE_READY, REDIS_READY, open_database, open_redis
from service_common.tokens import TokenCodec

from identity_service.accounts.router import router as accounts_router
from identity_service.sessions.router import router as sessions_router
from identity_service.settings import Settings

NAME = "identity"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; pools open when its lifespan starts."""
    settings = settings or Settings()
    jwt = settings.jwt
    # Built here, not in the lifespan, so a short or missing key fails at startup, loudly.
    tokens = TokenCodec(jwt.secret.get_secret_value(), issuer=jwt.issuer, audience=jwt.audience)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        async with (
            open_database(settings.db, name=NAME) as db,
            open_redis(settings.redis) as redis,
        ):
            yield {"db": db, "redis": redis, "tokens": tokens, "settings": settings}

    return create_service_app(
        name=NAME,
        settings=settings,
        lifespan=lifespan,
        routers=[accounts_router, sessions_router],
        readiness=[DATABASE_READY, REDIS_READY],
    )
