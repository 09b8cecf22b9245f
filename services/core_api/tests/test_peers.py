"""How core_api talks to its peers: per-peer time budgets, no gzip on the hop, readiness."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
import pytest
from core_api.settings import Settings

if TYPE_CHECKING:
    from conftest import PeerStub

Login = Callable[..., dict[str, str]]


async def test_each_peer_call_carries_that_peers_time_budget_and_no_gzip(
    client: httpx.AsyncClient, peers: PeerStub, login_as: Login, settings: Settings
) -> None:
    peers.on(
        "user",
        "GET",
        r"/internal/users/7/dashboard",
        {"user": {}, "recent_events": [], "events_7d": 0},
    )
    peers.on(
        "jobs",
        "GET",
        r"/internal/users/7/reports-summary",
        {"reports_total": 0, "reports_pending": 0, "recent_reports": []},
    )

    response = await client.get("/v1/me/dashboard", headers=login_as(7))

    assert response.status_code == 200
    budgets = {call.url.host: call.extensions["timeout"] for call in peers.calls}
    assert budgets["user.test"]["read"] == settings.user_timeout_s
    assert budgets["jobs.test"]["read"] == settings.jobs_timeout_s
    assert budgets["user.test"]["connect"] == settings.connect_timeout_s
    assert all(call.headers["accept-encoding"] == "identity" for call in peers.calls)


async def test_readiness_reports_redis(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200


@pytest.mark.usefixtures("redis_down")
async def test_readiness_fails_without_redis(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["error"] == "service_unavailable"
