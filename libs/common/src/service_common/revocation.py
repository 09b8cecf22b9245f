"""Revoked sessions, shared by the issuer and every verifier through Redis.

An access token is checked locally (signature, claims); what a signature cannot say is that its
session was logged out since. The issuer records that under `revoked:sid:<sid>` until the last
access token of the session expires, so verifiers pay one Redis GET, not a hop or a query.
"""

from __future__ import annotations

import time

from redis.asyncio import Redis

KEY_PREFIX = "revoked:sid:"


async def mark_revoked(redis: Redis, session_id: str, *, until_epoch_s: int) -> None:
    """Record a revoked session until `until_epoch_s` (raises if Redis does not answer)."""
    ttl = max(1, until_epoch_s - int(time.time()))
    await redis.set(KEY_PREFIX + session_id, b"1", ex=ttl)


async def is_revoked(redis: Redis, session_id: str) -> bool:
    """Tell whether a session was revoked (raises if Redis does not answer)."""
    return bool(await redis.exists(KEY_PREFIX + session_id))
