"""The login limiter: password guessing is throttled per account and per address, at the edge."""

from __future__ import annotations

import hashlib

from service_common.ratelimit import Limit, RateLimiter

from core_api.settings import LoginLimits


class LoginGuard:
    """Count login attempts per (client IP, email) and per client IP; fail closed."""

    def __init__(self, limiter: RateLimiter, limits: LoginLimits) -> None:
        self._limiter = limiter
        # Closed: with Redis down an unlimited login would be a password-guessing service.
        self._per_account = Limit.parse("login_account", limits.per_account, fail_closed=True)
        self._per_ip = Limit.parse("login_ip", limits.per_ip, fail_closed=True)

    async def hit(self, *, ip: str, email: str) -> dict[str, str]:
        """Count one attempt; return the account limit's RateLimit headers, or raise 429/503."""
        await self._limiter.hit(self._per_ip, ip)
        return await self._limiter.hit(self._per_account, ip, _account_key(email))

    async def clear(self, *, ip: str, email: str) -> None:
        """Forget an account's failed attempts from this address after it logged in."""
        await self._limiter.reset(self._per_account, ip, _account_key(email))


def _account_key(email: str) -> str:
    # Hashed: Redis keys should not be a list of users' email addresses.
    return hashlib.blake2b(email.lower().encode(), digest_size=16).hexdigest()
