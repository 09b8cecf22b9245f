"""Request dependencies as Annotated aliases: sessions, cache, queue and settings from the state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from service_common.cache import Cache
from service_common.deps import ReadSessionDep as ReadSessionDep  # re-exported for routers
from service_common.deps import SessionDep as SessionDep

from jobs_service.reports.queue import ReportQueue
from jobs_service.settings import Settings


# `async def`: FastAPI runs a plain `def` dependency in its thread pool on every request.
async def get_cache(request: Request) -> Cache:
    cache: Cache = request.state.cache
    return cache


async def get_queue(request: Request) -> ReportQueue:
    queue: ReportQueue = request.state.queue
    return queue


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.state.settings
    return settings


CacheDep = Annotated[Cache, Depends(get_cache)]
QueueDep = Annotated[ReportQueue, Depends(get_queue)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
