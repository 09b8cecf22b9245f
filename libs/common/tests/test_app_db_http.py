"""The app factory, the DB session scope and peer calls, against real PostgreSQL and Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field
from service_common import evidence
from service_common.app import create_app
from service_common.cursor import decode_cursor, encode_cursor
from service_common.db import create_engine, session_factory, session_scope
from service_common.errors import (
    AppError,
    BadGateway,
    GatewayTimeout,
    NotFound,
    ServiceUnavailable,
    Unprocessable,
)
from service_common.http import PeerError, call
from service_common.resources import DATABASE_READY, REDIS_READY, open_database, open_redis
from service_common.settings import DatabaseSettings, RedisSettings, ServiceSettings
from sqlalchemy import text
from stack_launcher.infra import Infra


class ItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=20)


def build_app(dsn: str, redis_url: str, **settings: Any) -> FastAPI:
    router = APIRouter()

    @router.post("/items", status_code=201)
    async def create(item: ItemCreate, request: Request) -> dict[str, Any]:
        async with session_scope(request.state.db.sessions) as session:
            value = await session.scalar(text("SELECT length(:n)"), {"n": item.name})
            await session.scalar(text("SELECT 1"))
        return {"name": item.name, "length": value}

    @router.get("/missing")
    async def missing() -> None:
        raise NotFound("no such thing")

    @router.get("/big")
    async def big() -> dict[str, str]:
        return {"text": "x" * 5000}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        async with (
            open_database(DatabaseSettings(url=dsn, pool_size=2), name="demo") as db,
            open_redis(RedisSettings(url=redis_url, socket_timeout_s=0.2)) as redis,
        ):
            yield {"db": db, "redis": redis}

    return create_app(
        name="demo",
        settings=ServiceSettings(max_body_bytes=2048, **settings),
        lifespan=lifespan,
        routers=[router],
        readiness=[DATABASE_READY, REDIS_READY],
    )


@asynccontextmanager
async def client_for(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app) as state:
        transport = httpx.ASGITransport(app=_with_state(app, state))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client


def _with_state(app: FastAPI, state: Any) -> Any:
    """ASGITransport skips the lifespan; hand the state to each request as servers do."""

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        scope["state"] = dict(state)
        await app(scope, receive, send)

    return asgi


@pytest.fixture(scope="module")
def dsn(infra: Infra) -> str:
    return infra.create_database("libs_common_tests")


async def test_request_reports_statements_and_error_shape(dsn: str, infra: Infra) -> None:
    async with client_for(build_app(dsn, infra.redis_url)) as client:
        created = await client.post("/items", json={"name": "abc"})
        assert created.status_code == 201, created.text
        assert created.json() == {"name": "abc", "length": 3}
        assert created.headers["x-evidence-db-statements"] == "2"
        assert created.headers["x-evidence-hops"] == "0"
        assert created.headers["server-timing"].startswith("app;dur=")

        missing = await client.get("/missing")
        assert missing.status_code == 404
        assert missing.json() == {"error": "not_found", "detail": "no such thing"}

        extra = await client.post("/items", json={"name": "a", "admin": True})
        assert extra.status_code == 422
        assert extra.json()["error"] == "validation_error"
        assert "admin" in extra.json()["detail"]

        unknown = await client.get("/nope")
        assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"


async def test_body_over_the_cap_is_413(dsn: str, infra: Infra) -> None:
    async with client_for(build_app(dsn, infra.redis_url)) as client:
        response = await client.post("/items", content=b'{"name": "' + b"a" * 4000 + b'"}')
        assert response.status_code == 413
        assert response.json()["error"] == "payload_too_large"


async def test_large_responses_are_gzipped(dsn: str, infra: Infra) -> None:
    async with client_for(build_app(dsn, infra.redis_url)) as client:
        response = await client.get("/big", headers={"accept-encoding": "gzip"})
        assert response.headers["content-encoding"] == "gzip"
        assert response.json()["text"] == "x" * 5000
        small = await client.get("/missing", headers={"accept-encoding": "gzip"})
        assert "content-encoding" not in small.headers


async def test_health_ready_and_metrics(dsn: str, infra: Infra) -> None:
    async with client_for(build_app(dsn, infra.redis_url)) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        assert (await client.get("/readyz")).status_code == 200
        await client.post("/items", json={"name": "m"})
        metrics = (await client.get("/metrics")).text
        assert 'http_requests_total{method="POST",route="/items",status="201"}' in metrics


async def test_not_ready_when_redis_is_down(dsn: str) -> None:
    async with client_for(build_app(dsn, "redis://127.0.0.1:1/0")) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert "redis" in ready.json()["detail"]
        assert (await client.get("/healthz")).status_code == 200


async def test_cors_allows_only_configured_origins(dsn: str, infra: Infra) -> None:
    app = build_app(dsn, infra.redis_url, cors_origins=["https://app.example"])
    async with client_for(app) as client:
        preflight = {"access-control-request-method": "GET"}
        allowed = await client.options(
            "/missing", headers={"origin": "https://app.example"} | preflight
        )
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        denied = await client.options(
            "/missing", headers={"origin": "https://evil.example"} | preflight
        )
        assert "access-control-allow-origin" not in denied.headers


async def test_session_scope_commits_on_success_and_rolls_back_on_error(dsn: str) -> None:
    engine = create_engine(
        dsn,
        pool_size=1,
        max_overflow=0,
        pool_timeout_s=5,
        pool_recycle_s=60,
        statement_timeout_ms=5000,
    )
    factory = session_factory(engine)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE IF NOT EXISTS scope_t (v int)"))
        await connection.execute(text("TRUNCATE scope_t"))
    async with session_scope(factory) as session:
        await session.execute(text("INSERT INTO scope_t VALUES (1)"))
    with pytest.raises(RuntimeError):
        async with session_scope(factory) as session:
            await session.execute(text("INSERT INTO scope_t VALUES (2)"))
            raise RuntimeError("fails half-way")
    async with engine.connect() as connection:
        rows = (await connection.execute(text("SELECT v FROM scope_t"))).scalars().all()
    assert rows == [1]
    await engine.dispose()


def peer_client(handler: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://peer")


async def test_call_folds_peer_evidence_into_the_request() -> None:
    def handler(_: httpx.Request) -> httpx.Response:
        headers = {evidence.DB_STATEMENTS: "2", evidence.HOPS: "1", evidence.HOP_DEPTH: "1"}
        return httpx.Response(200, json={"ok": True}, headers=headers)

    token = evidence._current.set(evidence.Evidence())
    try:
        async with peer_client(handler) as client:
            await call(client, "peer", "GET", "/x")
            await call(client, "peer", "GET", "/y")
        current = evidence.current()
        assert current is not None
        assert (current.db_statements, current.hops, current.hop_depth) == (4, 4, 2)
    finally:
        evidence._current.reset(token)


def _raise(exc: Exception) -> httpx.Response:
    raise exc


@pytest.mark.parametrize(
    ("respond", "expected"),
    [
        (lambda r: httpx.Response(500), BadGateway),
        (lambda r: httpx.Response(503), ServiceUnavailable),
        (
            lambda r: (_ for _ in ()).throw(httpx.ConnectError("refused", request=r)),
            ServiceUnavailable,
        ),
        (lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("slow", request=r)), GatewayTimeout),
    ],
)
async def test_peer_failures_map_to_gateway_errors(respond: Any, expected: type[AppError]) -> None:
    async with peer_client(respond) as client:
        with pytest.raises(expected):
            await call(client, "peer", "GET", "/x")


async def test_peer_client_errors_pass_through_with_their_code() -> None:
    def handler(_: httpx.Request) -> httpx.Response:
        body = {"error": "conflict", "detail": "email taken"}
        return httpx.Response(409, json=body, headers={"retry-after": "3"})

    async with peer_client(handler) as client:
        with pytest.raises(PeerError) as raised:
            await call(client, "peer", "POST", "/x", json={"a": 1})
    assert (raised.value.status_code, raised.value.code) == (409, "conflict")
    assert raised.value.detail == "email taken"
    assert raised.value.headers == {"retry-after": "3"}


def test_cursor_round_trips_and_refuses_tampering() -> None:
    from datetime import UTC, datetime

    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert decode_cursor(encode_cursor(moment, 42)) == (moment, 42)
    with pytest.raises(Unprocessable):
        decode_cursor("not-a-cursor!")


async def test_call_applies_the_peers_own_timeout_and_can_stream() -> None:
    seen: list[dict[str, float | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        if request.url.path == "/missing":
            return httpx.Response(404, json={"error": "not_found", "detail": "gone"})
        return httpx.Response(200, content=b"%PDF-1.7 body")

    async with peer_client(handler) as client:
        budget = httpx.Timeout(0.5, connect=0.1)
        streamed = await call(client, "peer", "GET", "/file", timeout=budget, stream=True)
        assert b"".join([chunk async for chunk in streamed.aiter_bytes()]) == b"%PDF-1.7 body"
        await streamed.aclose()
        with pytest.raises(PeerError) as raised:
            await call(client, "peer", "GET", "/missing", stream=True)
    assert raised.value.code == "not_found"
    assert seen[0]["read"] == 0.5 and seen[0]["connect"] == 0.1
    assert seen[1]["read"] == client.timeout.read
