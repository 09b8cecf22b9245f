"""What a dashboard request costs, from the evidence headers and from PostgreSQL itself.

The before layout should land near the published figures (14 DB statements, 4-5 internal hops)
because of its named anti-patterns: sequential hops, the auth re-check copied into each service
on the path, N+1 actor lookups, config re-read per request. The after layout promises at most 3
statements and one level of hops with a cold cache; warm, none of either (core_api reads the
owners' cached views).
pg_stat_statements is the ground truth: the headers must agree with it.
"""

from __future__ import annotations

import time

import httpx
import psycopg2
import pytest
import redis
from stack_launcher.stack import Stack

from .conftest import Account

pytestmark = pytest.mark.slow

# Statements the server ran for the application, minus transaction control and our own probe.
GROUND_TRUTH = """
    SELECT /* evidence-probe */ coalesce(sum(calls), 0) FROM pg_stat_statements s
    JOIN pg_database d ON d.oid = s.dbid AND d.datname = current_database()
    WHERE s.query !~* '^\\s*(begin|commit|rollback|savepoint|release|set|show|;|$)'
      AND s.query NOT LIKE '%evidence-probe%'
"""


def _statements_so_far(dsn: str) -> int:
    connection = psycopg2.connect(dsn)
    try:
        with connection.cursor() as cursor:
            cursor.execute(GROUND_TRUTH)
            return int(cursor.fetchone()[0])
    finally:
        connection.close()


def _dashboard_cost(client: httpx.Client, account: Account) -> tuple[int, int, int]:
    response = client.get("/v1/me/dashboard", headers=account.headers)
    assert response.status_code == 200, response.text
    headers = response.headers
    return (
        int(headers["X-Evidence-DB-Statements"]),
        int(headers["X-Evidence-Hops"]),
        int(headers["X-Evidence-Hop-Depth"]),
    )


def _measured(stack: Stack, client: httpx.Client, account: Account) -> tuple[int, int, int, int]:
    """Return header statements, hops, depth and what PostgreSQL counted for one dashboard."""
    time.sleep(0.5)  # let the login's background activity event land before counting
    before = _statements_so_far(stack.database_dsn)
    statements, hops, depth = _dashboard_cost(client, account)
    counted = _statements_so_far(stack.database_dsn) - before
    return statements, hops, depth, counted


def test_dashboard_cost_matches_each_layouts_promise(
    layout: str, stack: Stack, client: httpx.Client, heavy_user: Account
) -> None:
    if layout == "after":  # cold: earlier tests may have left this user's views cached
        with redis.Redis.from_url(stack.redis_url) as cache:
            cache.delete(f"user:dashboard:{heavy_user.id}", f"jobs:summary:{heavy_user.id}")
    statements, hops, depth, counted = _measured(stack, client, heavy_user)
    assert counted == statements, "the evidence headers agree with pg_stat_statements"
    if layout == "before":
        assert 10 <= statements <= 25, statements
        assert 4 <= hops <= 5, hops
        assert depth >= 2, depth
        # Nothing is cached: a second look costs the same again.
        assert _dashboard_cost(client, heavy_user)[:2] == (statements, hops)
    else:
        assert statements <= 3, f"cold dashboard ran {statements} statements"
        assert (hops, depth) == (2, 1), "user and jobs, called concurrently in one level"
        warm_statements, warm_hops, _, warm_counted = _measured(stack, client, heavy_user)
        assert (warm_statements, warm_hops, warm_counted) == (0, 0, 0), "views read at the edge"
