"""Rate limits on Redis with the `limits` library's async moving-window strategy.

A limit fails *closed* (answers 503) or *open* (lets the request through) when Redis does not
answer: login fails closed, because an unlimited login endpoint is a password-guessing service.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from prometheus_client import Counter

from service_common.errors import RateLimited, ServiceUnavailable
from service_common.redis import REDIS_ERRORS

log = logging.getLogger(__name__)

_STORAGE_ERRORS: tuple[type[Exception], ...] = (StorageError, *REDIS_ERRORS)

LIMITER_DECISIONS = Counter(
    "rate_limit_decisions_total", "Rate-limit decisions", ["limit", "decision"]
)


@dataclass(frozen=True, slots=True)
class Limit:
    name: str
    item: RateLimitItem
    fail_closed: bool

    @classmethod
    def parse(cls, name: str, spec: str, *, fail_closed: bool) -> Limit:
        """Build a limit from a `limits` string such as "5/minute"."""
        return cls(name, parse(spec), fail_closed)


class RateLimiter:
    """Check and count hits; raise RateLimited with Retry-After and RateLimit headers."""

    def __init__(self, redis_url: str, *, socket_timeout_s: float = 0.25) -> None:
        self._storage = RedisStorage(
            "async+" + redis_url,
            implementation="redispy",
            wrap_exceptions=True,
            key_prefix="ratelimit",
            socket_timeout=socket_timeout_s,
            socket_connect_timeout=socket_timeout_s,
        )
        self._limiter = MovingWindowRateLimiter(self._storage)

    async def hit(self, limit: Limit, *identifiers: str) -> dict[str, str]:
        """Count one hit; return RateLimit headers, or raise when over the limit."""
        try:
            allowed = await self._limiter.hit(limit.item, limit.name, *identifiers)
            stats = await self._limiter.get_window_stats(limit.item, limit.name, *identifiers)
        except _STORAGE_ERRORS as exc:
            LIMITER_DECISIONS.labels(limit.name, "storage_error").inc()
            log.warning("rate limiter storage unavailable", extra={"limit": limit.name})
            if limit.fail_closed:
                raise ServiceUnavailable(
                    "rate limiting is unavailable, try again shortly",
                    headers={"Retry-After": "5"},
                ) from exc
            return {}
        reset_in = max(1, math.ceil(stats.reset_time - time.time()))
        headers = {
            "RateLimit-Limit": str(limit.item.amount),
            "RateLimit-Remaining": str(max(0, stats.remaining)),
            "RateLimit-Reset": str(reset_in),
        }
        if not allowed:
            LIMITER_DECISIONS.labels(limit.name, "limited").inc()
            raise RateLimited(
                f"too many requests, retry in {reset_in} s",
                headers={**headers, "Retry-After": str(reset_in)},
            )
        LIMITER_DECISIONS.labels(limit.name, "allowed").inc()
        return headers

    async def reset(self, limit: Limit, *identifiers: str) -> None:
        """Forget the hits of one identity (after a successful login, say)."""
        try:
            await self._limiter.clear(limit.item, limit.name, *identifiers)
        except _STORAGE_ERRORS:
            log.warning("rate limiter storage unavailable on reset", extra={"limit": limit.name})
