"""The jobs HTTP service: report requests on the internal API; the work runs on Celery."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from service_common.app import create_app as create_service_app
from service_common.cache import Cache
from service_common.resources import DATABASE_READY, REDIS_READY, open_database, open_redis

from jobs_service.celery_app import create_celery
from jobs_service.reports.queue import ReportQueue
from jobs_service.reports.router import router as reports_router
from jobs_service.reports.service import CACHE_PREFIX
from jobs_service.runtime import close_runtimes
from jobs_service.settings import Settings
from jobs_service.sweeper.service import Sweeper, sweeping


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the jobs service; pools, broker connection and sweeper start in the lifespan."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        queue = ReportQueue(create_celery(settings))
        try:
            async with (
                open_database(settings.db, name="jobs") as db,
                open_redis(settings.redis) as redis,
            ):
                cache = Cache(redis, prefix=CACHE_PREFIX, enabled=settings.cache_enabled)
                sweeper = Sweeper(db.sessions, queue, cache, settings.celery)
                async with sweeping(sweeper):
                    yield {
                        "settings": settings,
                        "db": db,
                        "redis": redis,
                        "cache": cache,
                        "queue": queue,
                    }
        finally:
            queue.close()
            if settings.celery.eager:
                # Eager tasks ran in this process's worker threads, each on its own loop.
                await asyncio.to_thread(close_runtimes)

    return create_service_app(
        name="jobs",
        settings=settings,
        lifespan=lifespan,
        routers=[reports_router],
        readiness=[DATABASE_READY, REDIS_READY],
    )
