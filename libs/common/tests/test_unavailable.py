"""A database that is away answers 503 + Retry-After in the error shape, not a 500."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from service_common.errors import install_error_handlers
from sqlalchemy import exc as sa_exc


def app_raising(error: Exception) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/")
    async def route() -> None:
        raise error

    return app


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connection refused"),
        sa_exc.OperationalError("SELECT 1", {}, Exception("the database system is shutting down")),
        sa_exc.InterfaceError("SELECT 1", {}, Exception("connection is closed")),
        sa_exc.TimeoutError("QueuePool limit reached"),
    ],
    ids=["refused", "operational", "interface", "pool-timeout"],
)
async def test_an_unreachable_database_is_503_with_retry_after(error: Exception) -> None:
    transport = httpx.ASGITransport(app=app_raising(error))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/")
    assert response.status_code == 503
    assert response.json()["error"] == "service_unavailable"
    assert int(response.headers["retry-after"]) > 0


async def test_an_error_of_the_statement_itself_stays_a_500() -> None:
    error = sa_exc.IntegrityError("INSERT", {}, Exception("duplicate key"))
    transport = httpx.ASGITransport(app=app_raising(error), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/")
    assert response.status_code == 500
