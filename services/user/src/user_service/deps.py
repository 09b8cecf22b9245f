"""Request dependencies as `Annotated` aliases, read from the lifespan state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from service_common.cache import Cache
from service_common.deps import ReadSessionDep as ReadSessionDep  # re-exported for routers
from service_common.deps import SessionDep as SessionDep

from user_service.settings import Settings


# `async def`: FastAPI runs a plain `def` dependency in its thread pool on every request.
async def get_cache(request: Request) -> Cache:
    """Return the process's cache."""
    cache: Cache = request.state.cache
    return cache


async def get_settings(request: Request) -> Settings:
    """Return the settings the app was built with."""
    settings: Settings = request.state.settings
    return settings


CacheDep = Annotated[Cache, Depends(get_cache)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
