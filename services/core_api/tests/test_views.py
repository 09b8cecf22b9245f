"""Reads served from the owners' cached views: no hop when warm, the owner asked on a miss.

The views are put in the suite's real Redis under the keys the owners write (`Cache`), so these
tests also pin the key layout the user and jobs services share with the edge.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from core_api.settings import Settings, ViewSettings
from core_api.users.views import UserViews
from redis.asyncio import Redis
from service_common.views import ViewReader

USER = {
    "id": 7,
    "email": "ada@example.com",
    "display_name": "Ada",
    "created_at": "2025-01-01T00:00:00Z",
}
EVENT = {"id": 1, "kind": "login", "actor_id": 7, "created_at": "2025-01-02T00:00:00Z"}
ACTIVITY = {"user": USER, "recent_events": [EVENT], "events_7d": 12}
SUMMARY = {"reports_total": 3, "reports_pending": 1, "recent_reports": []}
ME = {**USER, "bio": "", "prefs": {"theme": "dark"}}
PROFILE = {"id": 9, "display_name": "Grace", "bio": "COBOL", "avatar_url": None}


async def cache(state: dict[str, Any], key: str, value: Any) -> bytes:
    raw = orjson.dumps(value)
    redis: Redis = state["redis"]
    await redis.set(key, raw, ex=60)
    return raw


async def test_a_warm_dashboard_is_composed_without_a_hop(
    client: httpx.AsyncClient, state: dict[str, Any], peers: Any, login_as: Any
) -> None:
    await cache(state, "user:dashboard:7", ACTIVITY)
    await cache(state, "jobs:summary:7", SUMMARY)

    response = await client.get("/v1/me/dashboard", headers=login_as(7))

    assert response.status_code == 200
    assert response.json() == {
        "user": ACTIVITY["user"],
        "recent_events": ACTIVITY["recent_events"],
        "stats": {"events_7d": 12, "reports_total": 3, "reports_pending": 1},
        "recent_reports": SUMMARY["recent_reports"],
    }
    assert peers.calls == []
    assert response.headers["x-evidence-hops"] == "0"


async def test_a_half_warm_dashboard_asks_only_the_owner_of_the_missing_view(
    client: httpx.AsyncClient, state: dict[str, Any], peers: Any, login_as: Any
) -> None:
    await cache(state, "user:dashboard:7", ACTIVITY)
    peers.on("jobs", "GET", r"/internal/users/7/reports-summary", SUMMARY)

    response = await client.get("/v1/me/dashboard", headers=login_as(7))

    assert response.status_code == 200
    assert response.json()["stats"] == {"events_7d": 12, "reports_total": 3, "reports_pending": 1}
    assert [call.url.host for call in peers.calls] == ["jobs.test"]
    assert response.headers["x-evidence-hops"] == "1"


@pytest.mark.parametrize(
    "entry", [b"not json", b"[1, 2]", orjson.dumps({"user": {}})], ids=["text", "list", "partial"]
)
async def test_a_cached_view_of_another_shape_is_a_miss(
    client: httpx.AsyncClient, state: dict[str, Any], peers: Any, login_as: Any, entry: bytes
) -> None:
    await state["redis"].set("user:dashboard:7", entry, ex=60)
    await cache(state, "jobs:summary:7", SUMMARY)
    peers.on("user", "GET", r"/internal/users/7/dashboard", ACTIVITY)

    response = await client.get("/v1/me/dashboard", headers=login_as(7))

    assert response.status_code == 200
    assert response.json()["user"] == ACTIVITY["user"]
    assert len(peers.called("user", "GET", r"/internal/users/7/dashboard")) == 1


async def test_me_is_served_from_the_owners_view_as_it_was_cached(
    client: httpx.AsyncClient, state: dict[str, Any], peers: Any, login_as: Any
) -> None:
    raw = await cache(state, "user:me:7", ME)

    response = await client.get("/v1/me", headers=login_as(7))

    assert response.status_code == 200
    assert response.content == raw
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert peers.calls == []


async def test_a_cached_public_profile_keeps_its_etag_and_answers_304(
    client: httpx.AsyncClient, state: dict[str, Any], peers: Any
) -> None:
    # The owner answers the bytes it caches (pinned in the user service's tests), so a cold
    # and a warm read share one ETag.
    owner_bytes = orjson.dumps(PROFILE)
    peers.on(
        "user",
        "GET",
        r"/internal/users/9/public",
        lambda _: httpx.Response(200, content=owner_bytes),
    )
    cold = await client.get("/v1/users/9")
    await cache(state, "user:public:9", PROFILE)

    warm = await client.get("/v1/users/9")
    again = await client.get("/v1/users/9", headers={"If-None-Match": warm.headers["etag"]})

    assert warm.status_code == 200 and warm.json() == PROFILE
    assert warm.headers["etag"] == cold.headers["etag"]
    assert again.status_code == 304
    assert len(peers.calls) == 1


async def test_without_redis_the_views_are_asked_of_their_owners(
    client: httpx.AsyncClient, peers: Any, login_as: Any, redis_down: None
) -> None:
    peers.on("user", "GET", r"/internal/users/9/public", PROFILE)

    response = await client.get("/v1/users/9")

    assert response.status_code == 200
    assert response.json() == PROFILE
    assert len(peers.calls) == 1


async def test_switched_off_the_edge_never_reads_a_view(
    client: httpx.AsyncClient, state: dict[str, Any], peers: Any, settings: Settings
) -> None:
    await cache(state, "user:public:9", {**PROFILE, "display_name": "stale"})
    off = ViewSettings(enabled=False)
    state["views"] = UserViews(ViewReader(state["redis"], enabled=False), off)
    peers.on("user", "GET", r"/internal/users/9/public", PROFILE)

    response = await client.get("/v1/users/9")

    assert response.json() == PROFILE
    assert len(peers.calls) == 1
