"""Cache, rate limiter, revocation and passwords against a real Redis started by the suite."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from service_common.cache import CACHE_REQUESTS, Cache
from service_common.errors import RateLimited, ServiceUnavailable
from service_common.passwords import hash_password, verify_password
from service_common.ratelimit import Limit, RateLimiter
from service_common.redis import create_redis
from service_common.revocation import is_revoked, mark_revoked
from stack_launcher.infra import Infra


def closed_port_url() -> str:
    """A Redis URL nothing listens on: what a dead Redis looks like to a client."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


@pytest.fixture
async def redis(infra: Infra) -> AsyncIterator[Redis]:
    client = create_redis(infra.redis_url)
    await client.flushdb()
    yield client
    await client.aclose()


async def test_cache_loads_once_then_hits(redis: Redis) -> None:
    cache = Cache(redis, prefix="t")
    loads = 0

    async def load() -> dict[str, int]:
        nonlocal loads
        loads += 1
        return {"n": 1}

    assert await cache.get_or_load("ns", 1, load, ttl_s=60) == {"n": 1}
    assert await cache.get_or_load("ns", 1, load, ttl_s=60) == {"n": 1}
    assert loads == 1
    assert await redis.ttl("t:ns:1") > 0


async def test_invalidate_forces_a_reload(redis: Redis) -> None:
    cache = Cache(redis, prefix="t")
    values = iter([{"v": 1}, {"v": 2}])

    async def load() -> dict[str, int]:
        return next(values)

    assert await cache.get_or_load("ns", "k", load, ttl_s=60) == {"v": 1}
    await cache.invalidate("ns", "k")
    assert await cache.get_or_load("ns", "k", load, ttl_s=60) == {"v": 2}


async def test_a_disabled_cache_always_loads_and_stores_nothing(redis: Redis) -> None:
    cache = Cache(redis, prefix="t", enabled=False)
    loads = 0

    async def load() -> dict[str, int]:
        nonlocal loads
        loads += 1
        return {"n": loads}

    assert await cache.get_or_load("ns", 1, load, ttl_s=60) == {"n": 1}
    assert await cache.get_or_load("ns", 1, load, ttl_s=60) == {"n": 2}
    await cache.invalidate("ns", 1)
    assert await redis.keys("t:*") == []


async def test_cache_fails_open_when_redis_is_down() -> None:
    dead = create_redis(closed_port_url(), socket_timeout_s=0.1)
    cache = Cache(dead, prefix="t")
    errors_before = CACHE_REQUESTS.labels("ns", "error")._value.get()

    async def load() -> str:
        return "from-db"

    assert await cache.get_or_load("ns", 1, load, ttl_s=60) == "from-db"
    await cache.invalidate("ns", 1)  # logged, not raised
    assert CACHE_REQUESTS.labels("ns", "error")._value.get() >= errors_before + 2
    await dead.aclose()


async def test_limiter_answers_429_with_retry_after(infra: Infra, redis: Redis) -> None:
    limiter = RateLimiter(infra.redis_url)
    limit = Limit.parse("login", "3/minute", fail_closed=True)
    for remaining in (2, 1, 0):
        headers = await limiter.hit(limit, "1.2.3.4", "a@b.test")
        assert headers["RateLimit-Remaining"] == str(remaining)
    with pytest.raises(RateLimited) as raised:
        await limiter.hit(limit, "1.2.3.4", "a@b.test")
    assert int(raised.value.headers["Retry-After"]) >= 1
    # Another identity has its own budget; a reset restores this one.
    await limiter.hit(limit, "1.2.3.4", "other@b.test")
    await limiter.reset(limit, "1.2.3.4", "a@b.test")
    await limiter.hit(limit, "1.2.3.4", "a@b.test")


async def test_limiter_fails_closed_or_open_as_configured() -> None:
    limiter = RateLimiter(closed_port_url(), socket_timeout_s=0.1)
    with pytest.raises(ServiceUnavailable):
        await limiter.hit(Limit.parse("login", "5/minute", fail_closed=True), "ip")
    assert await limiter.hit(Limit.parse("reads", "5/minute", fail_closed=False), "ip") == {}


async def test_revocation_is_visible_until_expiry(redis: Redis) -> None:
    import time

    assert not await is_revoked(redis, "sid-1")
    await mark_revoked(redis, "sid-1", until_epoch_s=int(time.time()) + 30)
    assert await is_revoked(redis, "sid-1")
    assert 0 < await redis.ttl("revoked:sid:sid-1") <= 30


async def test_password_hash_verifies_and_rejects() -> None:
    hashed = await hash_password("correct horse")
    assert hashed.startswith("$argon2")
    assert await verify_password("correct horse", hashed)
    assert not await verify_password("wrong horse", hashed)
    assert not await verify_password("anything", None)
