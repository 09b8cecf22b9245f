"""The app factory every service uses: middleware, error handlers, health, metrics, lifespan.

A service passes its own lifespan, which opens what it needs (see `resources`) and yields a
state mapping; this factory wraps it with logging and the loop-lag monitor, and serves
/healthz (the process is up), /readyz (its database and Redis answer) and /metrics (the whole
service's, added up over its workers when PROMETHEUS_MULTIPROC_DIR is set: see observability).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response

from service_common.errors import error_response, install_error_handlers
from service_common.evidence import EvidenceMiddleware
from service_common.middleware import BodySizeLimitMiddleware, ProfilingMiddleware
from service_common.observability import (
    MetricsMiddleware,
    configure_logging,
    metrics_payload,
    monitor_loop_lag,
)
from service_common.openapi import document_error_shape
from service_common.resources import ReadinessCheck
from service_common.settings import Environment, ServiceSettings
from service_common.shedding import LoadSheddingMiddleware

State = Mapping[str, Any]
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[State]]

GZIP_MIN_BYTES = 1024  # below ~1 KB compression costs more CPU than the bytes it saves


def create_app(
    *,
    name: str,
    settings: ServiceSettings,
    lifespan: Lifespan,
    routers: Sequence[APIRouter],
    readiness: Sequence[ReadinessCheck] = (),
) -> FastAPI:
    """Build a service app; nothing connects until the lifespan starts."""

    @asynccontextmanager
    async def wrapped(app: FastAPI) -> AsyncIterator[State]:
        configure_logging(settings.log_level, service=name)
        monitor = asyncio.create_task(monitor_loop_lag())
        try:
            async with lifespan(app) as state:
                yield state
        finally:
            monitor.cancel()

    docs = settings.environment is not Environment.PRODUCTION
    app = FastAPI(
        title=name,
        lifespan=wrapped,
        docs_url="/docs" if docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
    )
    install_error_handlers(app)
    document_error_shape(app)
    for router in routers:
        app.include_router(router)
    app.include_router(_health_router(readiness))

    # Added inside-out: the last one added is the outermost.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-None-Match"],
            expose_headers=["ETag", "Retry-After", "RateLimit-Remaining", "Server-Timing"],
        )
    if settings.profiling and settings.environment is Environment.DEVELOPMENT:
        app.add_middleware(ProfilingMiddleware)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(EvidenceMiddleware)
    # Outermost: a shed request costs no more than this check.
    app.add_middleware(LoadSheddingMiddleware, max_in_flight=settings.max_in_flight)
    return app


def _health_router(readiness: Sequence[ReadinessCheck]) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz(request: Request) -> Response:
        failures = []
        for check in readiness:
            try:
                await asyncio.wait_for(check.probe(request.state), timeout=1.0)
            except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
                failures.append(f"{check.name}: {type(exc).__name__}")
        if failures:
            return error_response(503, "service_unavailable", "; ".join(failures))
        return Response(b'{"status":"ready"}', media_type="application/json")

    @router.get("/metrics")
    async def metrics() -> Response:
        # Every worker's metrics, added up, under gunicorn (see observability): files to read,
        # so off the event loop.
        payload = await asyncio.to_thread(metrics_payload)
        return Response(payload, media_type=CONTENT_TYPE_LATEST)

    return router
