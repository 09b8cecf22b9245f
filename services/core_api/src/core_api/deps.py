"""Request dependencies as `Annotated` aliases, read from the lifespan state.

All are `async def`: FastAPI runs plain `def` dependencies in a thread pool, a needless hop on
every request of the hot path.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis.asyncio import Redis
from service_common.tokens import TokenClaims, TokenCodec

from core_api.auth.guard import LoginGuard
from core_api.peers import Peers
from core_api.security import authenticate, client_ip
from core_api.settings import Settings
from core_api.users.views import UserViews


async def get_settings(request: Request) -> Settings:
    """Return the settings the app was built with."""
    settings: Settings = request.state.settings
    return settings


async def get_peers(request: Request) -> Peers:
    """Return the peer services on the process's shared HTTP client."""
    peers: Peers = request.state.peers
    return peers


async def get_views(request: Request) -> UserViews:
    """Return the owners' cached views, read straight from Redis."""
    views: UserViews = request.state.views
    return views


async def get_redis(request: Request) -> Redis:
    """Return the process's Redis client."""
    redis: Redis = request.state.redis
    return redis


async def get_login_guard(request: Request) -> LoginGuard:
    """Return the process's login limiter."""
    guard: LoginGuard = request.state.login_guard
    return guard


SettingsDep = Annotated[Settings, Depends(get_settings)]
PeersDep = Annotated[Peers, Depends(get_peers)]
RedisDep = Annotated[Redis, Depends(get_redis)]
ViewsDep = Annotated[UserViews, Depends(get_views)]
LoginGuardDep = Annotated[LoginGuard, Depends(get_login_guard)]


# Declared through HTTPBearer so the OpenAPI schema (and Schemathesis) knows how to authenticate.
BEARER = HTTPBearer(auto_error=False, description="An access token from POST /v1/auth/login")


async def get_current_user(
    request: Request,
    peers: PeersDep,
    redis: RedisDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> TokenClaims:
    """Return the verified claims (user_id, session_id) of the request's bearer token."""
    tokens: TokenCodec = request.state.tokens
    token = credentials.credentials if credentials else None
    return await authenticate(token=token, tokens=tokens, redis=redis, peers=peers)


async def get_client_ip(request: Request, settings: SettingsDep) -> str:
    """Return the caller's address, believing X-Forwarded-For only from a trusted proxy."""
    return client_ip(
        peer=request.client.host if request.client else None,
        forwarded_for=request.headers.get("x-forwarded-for"),
        trusted_proxies=settings.trusted_proxies,
    )


CurrentUser = Annotated[TokenClaims, Depends(get_current_user)]
ClientIP = Annotated[str, Depends(get_client_ip)]
