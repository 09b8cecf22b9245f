"""The public edge: the /v1 API, verifying tokens locally and composing its peers in one hop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from service_common.app import create_app as create_service_app
from service_common.ratelimit import RateLimiter
from service_common.resources import REDIS_READY, open_http, open_redis
from service_common.tokens import TokenCodec
from service_common.views import ViewReader

from core_api.auth.guard import LoginGuard
from core_api.auth.router import router as auth_router
from core_api.middleware import SecurityHeadersMiddleware
from core_api.peers import Peers
from core_api.reports.router import router as reports_router
from core_api.settings import Settings
from core_api.users.router import router as users_router
from core_api.users.views import UserViews

NAME = "core_api"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; Redis and the HTTP pool open when its lifespan starts."""
    settings = settings or Settings()
    jwt = settings.jwt
    # Built here, not in the lifespan, so a short or missing key fails at startup, loudly.
    tokens = TokenCodec(jwt.secret.get_secret_value(), issuer=jwt.issuer, audience=jwt.audience)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        redis_settings, views = settings.redis, settings.views
        limiter = RateLimiter(redis_settings.url, socket_timeout_s=redis_settings.socket_timeout_s)
        async with (
            open_redis(redis_settings) as redis,
            # The default budget; each peer's own is applied per request (see Peers).
            open_http(
                timeout_s=max(
                    settings.identity_timeout_s, settings.user_timeout_s, settings.jobs_timeout_s
                ),
                connect_timeout_s=settings.connect_timeout_s,
            ) as http,
        ):
            yield {
                "settings": settings,
                "tokens": tokens,
                "redis": redis,
                "peers": Peers(http, settings),
                "views": UserViews(ViewReader(redis, enabled=views.enabled), views),
                "login_guard": LoginGuard(limiter, settings.login_limits),
            }

    app = create_service_app(
        name=NAME,
        settings=settings,
        lifespan=lifespan,
        routers=[auth_router, users_router, reports_router],
        readiness=[REDIS_READY],
    )
    app.add_middleware(SecurityHeadersMiddleware)
    return app
