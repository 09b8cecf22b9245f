"""A database that is away answers 503 + Retry-After in the error shape, not a 500."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from service_common.errors import install_error_handlers
from sqlalchemy import exc as sa_exc


class ServerError(Exception):
    """What the asyncpg adapter hands SQLAlchemy: the server's error with its SQLSTATE."""

    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


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
        sa_exc.DatabaseError("SELECT 1", {}, ServerError("system is starting up", "57P03")),
        sa_exc.DatabaseError("SELECT 1", {}, ServerError("terminating connection", "57P01")),
        sa_exc.DatabaseError("SELECT 1", {}, ServerError("too many clients", "53300")),
    ],
    ids=["refused", "operational", "interface", "pool-timeout", "starting", "shutdown", "full"],
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
