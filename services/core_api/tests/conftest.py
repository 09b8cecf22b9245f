"""core_api fixtures: the real app on a real Redis, with its peers as httpx.MockTransport handlers.

core_api owns no database. Its peers (identity, user, jobs) are HTTP services, so here they are
stand-in handlers that record every call; the whole stack end to end is the cross-service suite's.
Redis is the suite's real one, on a database index of its own that is flushed before each test.
"""

from __future__ import annotations

import inspect
import re
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from core_api.app import create_app
from core_api.auth.guard import LoginGuard
from core_api.peers import Peers
from core_api.settings import DownloadSettings, Settings
from core_api.users.views import UserViews
from fastapi import FastAPI
from service_common.ratelimit import RateLimiter
from service_common.redis import create_redis
from service_common.settings import JWTSettings, RedisSettings
from service_common.testing import asgi_client, lifespan_state
from service_common.tokens import TokenCodec
from service_common.views import ViewReader
from stack_launcher.infra import Infra

REDIS_DB = 5  # core_api's tests only; flushing it touches no other suite's keys
ALLOWED_ORIGIN = "https://app.example"
PEER_HOSTS = {"identity": "identity.test", "user": "user.test", "jobs": "jobs.test"}

Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


class PeerStub:
    """identity, user and jobs as route handlers; every call is recorded, unknown ones fail."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, str, re.Pattern[str], Handler]] = []
        self.calls: list[httpx.Request] = []

    def on(
        self, peer: str, method: str, path: str, handler: Handler | Any, status: int = 200
    ) -> None:
        """Answer `method path` (a regex) at a peer with a handler or a fixed JSON body."""
        if not callable(handler):
            body = handler

            def handler(_: httpx.Request) -> httpx.Response:
                return httpx.Response(status, json=body)

        self._routes.append((PEER_HOSTS[peer], method, re.compile(path), handler))

    def called(self, peer: str, method: str, path: str) -> list[httpx.Request]:
        """Return the recorded calls to one route."""
        pattern = re.compile(path)
        return [
            call
            for call in self.calls
            if call.url.host == PEER_HOSTS[peer]
            and call.method == method
            and pattern.fullmatch(call.url.path)
        ]

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        for host, method, pattern, handler in self._routes:
            if (request.url.host, request.method) == (host, method) and pattern.fullmatch(
                request.url.path
            ):
                response = handler(request)
                return await response if inspect.isawaitable(response) else response
        raise AssertionError(f"unexpected peer call: {request.method} {request.url}")


def closed_port_redis_url() -> str:
    """A Redis URL nothing listens on: what a dead Redis looks like to a client."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


@pytest.fixture(scope="session")
def settings(infra: Infra) -> Settings:
    redis_url = infra.redis_url.rsplit("/", 1)[0] + f"/{REDIS_DB}"
    return Settings(
        environment="test",
        redis=RedisSettings(url=redis_url),
        jwt=JWTSettings(secret="core-api-tests-jwt-secret-of-32-bytes-or-more"),
        downloads=DownloadSettings(secret="core-api-tests-download-secret-of-32-bytes", ttl_s=300),
        identity_url=f"http://{PEER_HOSTS['identity']}",
        user_url=f"http://{PEER_HOSTS['user']}",
        jobs_url=f"http://{PEER_HOSTS['jobs']}",
        max_body_bytes=4096,
        cors_origins=[ALLOWED_ORIGIN],
    )


@pytest.fixture(scope="session")
async def running(settings: Settings) -> AsyncIterator[tuple[FastAPI, dict[str, Any]]]:
    app = create_app(settings)
    async with lifespan_state(app) as state:
        yield app, state


@pytest.fixture
def peers() -> PeerStub:
    return PeerStub()


@pytest.fixture
async def state(
    running: tuple[FastAPI, dict[str, Any]], peers: PeerStub, settings: Settings
) -> AsyncIterator[dict[str, Any]]:
    """The app's lifespan state with the peers stubbed; a test may swap parts of it."""
    _, base = running
    await base["redis"].flushdb()
    async with httpx.AsyncClient(transport=httpx.MockTransport(peers.handle)) as http:
        yield {**base, "peers": Peers(http, settings)}


@pytest.fixture
async def redis_down(state: dict[str, Any], settings: Settings) -> AsyncIterator[None]:
    """Point the app's Redis client and rate limiter at a port where no Redis answers."""
    url = closed_port_redis_url()
    dead = create_redis(url, socket_timeout_s=0.2)
    state["redis"] = dead
    state["views"] = UserViews(ViewReader(dead), settings.views)
    state["login_guard"] = LoginGuard(RateLimiter(url, socket_timeout_s=0.2), settings.login_limits)
    yield
    await dead.aclose()


@pytest.fixture
async def client(
    running: tuple[FastAPI, dict[str, Any]], state: dict[str, Any]
) -> AsyncIterator[httpx.AsyncClient]:
    app, _ = running
    # Each request reads `state` when it is sent, so what a test swaps in later reaches the app.
    async with asgi_client(
        app, state, base_url="http://core-api", client=("203.0.113.7", 40000)
    ) as http:
        yield http


@pytest.fixture
def tokens(state: dict[str, Any]) -> TokenCodec:
    codec: TokenCodec = state["tokens"]
    return codec


@pytest.fixture
def login_as(tokens: TokenCodec) -> Callable[..., dict[str, str]]:
    """Return Authorization headers of a fresh access token for a user (and session)."""

    def headers(user_id: int = 7, session_id: str | None = None) -> dict[str, str]:
        token, _ = tokens.issue(
            user_id=user_id,
            session_id=session_id or str(uuid.uuid4()),
            token_type="access",
            ttl_s=300,
        )
        return {"Authorization": f"Bearer {token}"}

    return headers
