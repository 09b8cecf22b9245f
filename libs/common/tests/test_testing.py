"""The shared test machinery's own promises, the ones the service suites only lean on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from service_common.deps import primary_session, read_session
from service_common.testing import asgi_client, lifespan_state, shared_session


def state_app() -> FastAPI:
    app = FastAPI()

    @app.get("/state")
    async def show(request: Request) -> dict[str, Any]:
        seen = dict(request.scope["state"])
        request.state.scribbled = True  # must not reach the next request
        return {"seen": sorted(seen), "client": request.client and request.client.host}

    return app


async def test_each_request_gets_a_fresh_copy_of_the_current_state() -> None:
    state: dict[str, Any] = {"a": 1}
    async with asgi_client(state_app(), state, client=("203.0.113.7", 1)) as client:
        first = (await client.get("/state")).json()
        state["b"] = 2
        second = (await client.get("/state")).json()
    assert first == {"seen": ["a"], "client": "203.0.113.7"}
    assert second["seen"] == ["a", "b"]
    assert state == {"a": 1, "b": 2}


async def test_lifespan_without_state_yields_an_empty_dict() -> None:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield

    async with lifespan_state(FastAPI(lifespan=lifespan)) as state:
        assert state == {}


def test_session_overrides_are_cleared_on_exit() -> None:
    app = FastAPI()
    session: Any = object()
    with shared_session(app, session):
        assert set(app.dependency_overrides) == {primary_session, read_session}
    assert app.dependency_overrides == {}
