"""One event loop per worker process, with the pools its tasks share.

Celery tasks are synchronous functions; the jobs code is async (asyncpg, redis.asyncio, httpx),
the same repositories style as the API. Rather than `asyncio.run` per task, which would build a
loop, a DB pool, a Redis pool and an HTTP pool for every job and tear them down again, each worker
process keeps one `asyncio.Runner` and opens its pools on first use; connections are reused from
task to task. A prefork child gets its own runtime (the pid is checked, so nothing opened before a
fork is shared), and in eager mode, where tasks run in the API's worker threads, each thread gets
its own, since one loop cannot be driven from two threads at once.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TypeVar

import httpx
from redis.asyncio import Redis
from service_common.cache import Cache
from service_common.resources import Database, open_database, open_http, open_redis

from jobs_service.reports.service import CACHE_PREFIX
from jobs_service.settings import Settings

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Resources:
    """What a task uses: the pools of its process and the settings."""

    settings: Settings
    db: Database
    redis: Redis
    cache: Cache
    users: httpx.AsyncClient  # the user service
    webhooks: httpx.AsyncClient  # customers' endpoints


class WorkerRuntime:
    """An event loop and lazily opened pools, owned by one process (and one thread)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pid = os.getpid()
        self._runner = asyncio.Runner()
        self._stack = AsyncExitStack()
        self._resources: Resources | None = None

    def run(self, job: Callable[[Resources], Awaitable[T]]) -> T:
        """Run one job to completion on this runtime's loop."""
        return self._runner.run(self._call(job))

    async def _call(self, job: Callable[[Resources], Awaitable[T]]) -> T:
        if self._resources is None:
            self._resources = await self._open()
        return await job(self._resources)

    async def _open(self) -> Resources:
        settings = self.settings
        # One task at a time per process: a small pool is plenty and keeps connection counts low.
        db_settings = settings.db.model_copy(
            update={"pool_size": settings.worker_db_pool_size, "max_overflow": 0}
        )
        enter = self._stack.enter_async_context
        db = await enter(open_database(db_settings, name="jobs-worker"))
        redis = await enter(open_redis(settings.redis))
        users = await enter(open_http(base_url=settings.user_url, max_connections=10))
        webhooks = await enter(open_http(timeout_s=settings.webhook.timeout_s, max_connections=10))
        cache = Cache(redis, prefix=CACHE_PREFIX, enabled=settings.cache_enabled)
        return Resources(settings, db, redis, cache, users, webhooks)

    def close(self) -> None:
        """Close the pools and the loop."""
        try:
            self._runner.run(self._stack.aclose())
        finally:
            self._runner.close()
            self._resources = None


_local = threading.local()
_created: list[WorkerRuntime] = []
_created_lock = threading.Lock()


def current_runtime(settings: Settings) -> WorkerRuntime:
    """Return this process's (and thread's) runtime for these settings, creating it once."""
    runtime: WorkerRuntime | None = getattr(_local, "runtime", None)
    if runtime is None or runtime.pid != os.getpid() or runtime.settings is not settings:
        runtime = WorkerRuntime(settings)
        _local.runtime = runtime
        with _created_lock:
            _created.append(runtime)
    return runtime


def close_runtimes() -> None:
    """Close every runtime this process created (at worker shutdown, or the API's in eager mode)."""
    with _created_lock:
        mine = [runtime for runtime in _created if runtime.pid == os.getpid()]
        _created.clear()
    for runtime in mine:
        runtime.close()
