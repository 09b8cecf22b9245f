"""What a dashboard request costs, read from the evidence headers of the public gateway.

The before layout should land near the published figures (14 DB statements, 4-5 internal
hops) because of its named anti-patterns: five sequential hops, the auth re-check copied into
each service on the path, N+1 actor lookups, config re-read per request.
"""

from __future__ import annotations

import httpx
import pytest

from .conftest import Account

pytestmark = pytest.mark.slow


def _dashboard_cost(client: httpx.Client, account: Account) -> tuple[int, int, int]:
    response = client.get("/v1/me/dashboard", headers=account.headers)
    assert response.status_code == 200, response.text
    headers = response.headers
    return (
        int(headers["X-Evidence-DB-Statements"]),
        int(headers["X-Evidence-Hops"]),
        int(headers["X-Evidence-Hop-Depth"]),
    )


def test_dashboard_cost_near_the_published_before_figures(
    layout: str, client: httpx.Client, heavy_user: Account
) -> None:
    if layout != "before":
        pytest.skip("the after layout's budget (<= 3 cold, <= 1 warm, depth 1) is asserted apart")
    statements, hops, depth = _dashboard_cost(client, heavy_user)
    assert 10 <= statements <= 25, statements
    assert 4 <= hops <= 5, hops
    assert depth >= 2, depth
    # Nothing is cached: a second look costs the same again.
    assert _dashboard_cost(client, heavy_user)[:2] == (statements, hops)
