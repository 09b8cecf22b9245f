"""One redis-py asyncio client per process: short timeouts, a few quick retries, bounded pool."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from service_common.settings import RedisSettings

#: What "Redis did not answer" looks like; callers that fail open catch exactly these.
REDIS_ERRORS: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError, OSError)


def create_redis(
    url: str, *, socket_timeout_s: float = 0.25, max_connections: int = 64, retries: int = 2
) -> Redis:
    """Create a client that gives up fast: a cache that waits on a dead Redis is no cache."""
    return Redis.from_url(
        url,
        socket_timeout=socket_timeout_s,
        socket_connect_timeout=socket_timeout_s,
        max_connections=max_connections,
        retry=Retry(ExponentialBackoff(cap=0.1, base=0.01), retries),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        health_check_interval=30,
        decode_responses=False,
    )


def redis_from_settings(settings: RedisSettings) -> Redis:
    """Create the process's client from its settings."""
    return create_redis(
        settings.url,
        socket_timeout_s=settings.socket_timeout_s,
        max_connections=settings.max_connections,
    )
