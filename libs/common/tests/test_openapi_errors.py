"""The OpenAPI schema documents 422 in the error shape the handler really sends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI
from service_common.app import create_app
from service_common.settings import ServiceSettings


async def test_a_422_is_documented_and_answered_in_the_error_shape() -> None:
    router = APIRouter()

    @router.get("/items/{item_id}")
    async def read(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        yield {}

    app = create_app(name="t", settings=ServiceSettings(), lifespan=lifespan, routers=[router])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        schema = (await client.get("/openapi.json")).json()
        invalid = await client.get("/items/not-a-number")

    documented = schema["paths"]["/items/{item_id}"]["get"]["responses"]["422"]
    ref = documented["content"]["application/json"]["schema"]["$ref"]
    error_schema = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert error_schema["required"] == ["error", "detail"]
    assert error_schema["properties"]["detail"]["type"] == "string"
    assert invalid.status_code == 422
    assert set(invalid.json()) == {"error", "detail"}
