"""A read-through cache on Redis: TTLs, namespaced keys, invalidation, and it fails open.

When Redis does not answer, reads go to the source of truth (the database) and the failure is
logged and counted; a cache outage costs latency, never correctness or availability.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from prometheus_client import Counter
from redis.asyncio import Redis

from service_common.redis import REDIS_ERRORS

log = logging.getLogger(__name__)

CACHE_REQUESTS = Counter(
    "cache_requests_total", "Cache lookups by namespace and outcome", ["namespace", "outcome"]
)


class Cache:
    """Cache JSON-serialisable values under `<prefix>:<namespace>:<key>`.

    `enabled=False` turns it into a pass-through that never touches Redis: every read goes to
    the source. It exists for the bench ladder, which measures the layout with and without it.
    """

    def __init__(self, redis: Redis, *, prefix: str, enabled: bool = True) -> None:
        self._redis = redis
        self._prefix = prefix
        self.enabled = enabled

    def key(self, namespace: str, key: str | int) -> str:
        """Return the full Redis key of an entry."""
        return f"{self._prefix}:{namespace}:{key}"

    async def get_or_load(
        self,
        namespace: str,
        key: str | int,
        load: Callable[[], Awaitable[Any]],
        *,
        ttl_s: int,
        cache_none: bool = False,
    ) -> Any:
        """Return the cached value, or load it, store it for `ttl_s` and return it."""
        if not self.enabled:
            return await load()
        full_key = self.key(namespace, key)
        try:
            raw = await self._redis.get(full_key)
        except REDIS_ERRORS as exc:
            self._fail_open(namespace, "get", exc)
            return await load()
        if raw is not None:
            CACHE_REQUESTS.labels(namespace, "hit").inc()
            return orjson.loads(raw)
        CACHE_REQUESTS.labels(namespace, "miss").inc()
        value = await load()
        if value is not None or cache_none:
            try:
                await self._redis.set(full_key, orjson.dumps(value), ex=ttl_s)
            except REDIS_ERRORS as exc:
                self._fail_open(namespace, "set", exc)
        return value

    async def invalidate(self, namespace: str, *keys: str | int) -> None:
        """Drop entries after a write; a failure is logged (the TTL bounds the staleness)."""
        if not keys or not self.enabled:
            return
        try:
            await self._redis.delete(*(self.key(namespace, k) for k in keys))
        except REDIS_ERRORS as exc:
            self._fail_open(namespace, "delete", exc)

    @staticmethod
    def _fail_open(namespace: str, operation: str, exc: Exception) -> None:
        CACHE_REQUESTS.labels(namespace, "error").inc()
        log.warning(
            "cache unavailable, serving from the source",
            extra={"namespace": namespace, "operation": operation, "error": repr(exc)},
        )
