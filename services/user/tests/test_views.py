"""The views core_api reads straight from Redis (service_common.views): what is cached under them
is exactly what the internal routes answer, so the edge serves the same bytes as the owner."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from redis.asyncio import Redis

CreateUser = Any  # conftest's factory fixture
CACHE_PREFIX = "user-tests"  # conftest's settings.cache_prefix


@pytest.mark.parametrize("view", ["me", "public", "dashboard"])
async def test_a_cached_view_is_the_json_its_route_answers(
    committed_client: httpx.AsyncClient,
    committed_users: CreateUser,
    state: dict[str, Any],
    view: str,
) -> None:
    user_id = await committed_users("Views")
    # The view names are the routes' last segments.
    answered = await committed_client.get(f"/internal/users/{user_id}/{view}")
    redis: Redis = state["redis"]
    cached = await redis.get(f"{CACHE_PREFIX}:{view}:{user_id}")

    assert answered.status_code == 200
    assert cached is not None, "the read cached its view"
    assert orjson.loads(cached) == answered.json()
    if view != "dashboard":  # served as bytes by the edge (the dashboard is composed there)
        assert cached == answered.content
