"""What every one of the 14 services sets up the same way: app, pool, errors, evidence, probes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from before_layout.db import Database
from before_layout.errors import ApiError, error_response, install_error_handlers
from before_layout.evidence import EvidenceMiddleware
from before_layout.settings import get_settings


def create_service(name: str) -> tuple[FastAPI, Database]:
    """Build one service's app and its own database pool."""
    settings = get_settings()
    db = Database(settings.database_url, maxconn=settings.db_pool_max)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        db.close()

    app = FastAPI(title=f"before-{name}", lifespan=lifespan, docs_url=None, redoc_url=None)
    # Middleware is applied per service, by hand, as each team remembered to.
    app.add_middleware(EvidenceMiddleware)
    install_error_handlers(app)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": name}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        try:
            db.fetch_one("SELECT 1 AS ok")
        except Exception as exc:  # noqa: BLE001 - any DB failure means not ready
            return error_response(503, "service_unavailable", f"database: {exc.__class__.__name__}")
        return JSONResponse({"status": "ready", "service": name})

    return app, db


__all__ = ["ApiError", "create_service"]
