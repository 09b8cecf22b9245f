"""PostgreSQL and Redis as witnesses: statement counts, connections, cache hits.

pg_stat_statements is the ground truth for "DB statements per request": it is reset before a
measured phase and summed after it, leaving out the harness's own statistics queries.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
import redis

T = TypeVar("T")
Json = dict[str, Any]

# Transaction control and session chatter: statements, but not queries.
UTILITY_PREFIXES = (
    "begin",
    "commit",
    "rollback",
    "start transaction",
    "savepoint",
    "release",
    "set ",
    "show ",
    "reset ",
    "discard",
    "deallocate",
    "listen",
    "unlisten",
)
OWN_QUERY_MARKERS = ("pg_stat_statements", "pg_stat_activity", "pg_backend_pid")

STATEMENTS_SQL = """
SELECT query, calls, rows, total_exec_time
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY calls DESC
"""
CONNECTIONS_SQL = """
SELECT coalesce(state, 'unknown') AS state, count(*) AS n
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
GROUP BY 1
"""


class Postgres:
    """One connection on a private event loop, usable from any thread (calls are serialised)."""

    def __init__(self, dsn: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._lock = threading.Lock()
        self._connection: asyncpg.Connection = self._run(asyncpg.connect(dsn))

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        with self._lock:
            return self._loop.run_until_complete(coroutine)

    def close(self) -> None:
        """Close the connection and the loop."""
        self._run(self._connection.close())
        self._loop.close()

    def version(self) -> str:
        """Return PostgreSQL's version string."""
        return str(self._run(self._connection.fetchval("SHOW server_version")))

    def reset_statements(self) -> None:
        """Zero pg_stat_statements so the next reading covers one phase only."""
        self._run(self._connection.execute("SELECT pg_stat_statements_reset()"))

    def statements(self) -> list[Json]:
        """Return pg_stat_statements rows of this database, without the harness's own queries."""
        rows = self._run(self._connection.fetch(STATEMENTS_SQL))
        return [
            {
                "query": row["query"],
                "calls": int(row["calls"]),
                "rows": int(row["rows"]),
                "total_exec_ms": float(row["total_exec_time"]),
            }
            for row in rows
            if not any(marker in row["query"] for marker in OWN_QUERY_MARKERS)
        ]

    def busy(self) -> int:
        """Return how many other client connections are running a statement right now."""
        return self.connections().get("active", 0)

    def connections(self) -> dict[str, int]:
        """Return client connections to this database by state (active, idle, ...)."""
        rows = self._run(self._connection.fetch(CONNECTIONS_SQL))
        return {str(row["state"]): int(row["n"]) for row in rows}


def count_statements(rows: list[Json]) -> Json:
    """Return total statements and queries (statements minus transaction control) in rows."""
    statements = sum(row["calls"] for row in rows)
    utility = sum(row["calls"] for row in rows if is_utility(row["query"]))
    return {"statements": statements, "queries": statements - utility}


def is_utility(query: str) -> bool:
    """Tell transaction control and session settings apart from data queries."""
    return query.lstrip().lower().startswith(UTILITY_PREFIXES)


# The jobs service's Celery queue (JOBS_CELERY__QUEUE's default) and kombu's Redis transport's
# hash of messages a worker holds.
CELERY_QUEUES = ("reports",)
UNACKED_KEY = "unacked"


class RedisStats:
    """Keyspace hit and miss counters from INFO, for the cache hit ratio of a phase."""

    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(url)

    def snapshot(self) -> Json:
        """Return the counters that matter now."""
        info = self._client.info()
        return {
            "keyspace_hits": int(info.get("keyspace_hits", 0)),
            "keyspace_misses": int(info.get("keyspace_misses", 0)),
            "commands": int(info.get("total_commands_processed", 0)),
            "used_memory": int(info.get("used_memory", 0)),
            "version": str(info.get("redis_version", "")),
        }

    def backlog(self, queues: tuple[str, ...] = CELERY_QUEUES) -> int:
        """Return the Celery messages waiting in the queues or taken but not yet acknowledged.

        The after layout's worker acknowledges late (after the task), so 0 means every report
        job, email and webhook enqueued so far has finished. Without Celery it is always 0.
        """
        pipeline = self._client.pipeline()
        for queue in queues:
            pipeline.llen(queue)
        pipeline.hlen(UNACKED_KEY)
        try:
            return sum(int(count) for count in pipeline.execute())
        except redis.ResponseError:  # a key of that name that is not a queue: no Celery here
            return 0

    def close(self) -> None:
        """Close the client."""
        self._client.close()


def cache_delta(before: Json, after: Json) -> Json:
    """Return the phase's hits, misses and hit ratio (None when the cache was not used)."""
    hits = after["keyspace_hits"] - before["keyspace_hits"]
    misses = after["keyspace_misses"] - before["keyspace_misses"]
    lookups = hits + misses
    return {
        "hits": hits,
        "misses": misses,
        "hit_ratio": hits / lookups if lookups else None,
        "commands": after["commands"] - before["commands"],
    }
