"""Cached views: JSON an owning service renders and caches, and the edge may read without a hop.

A view is what an owner answers for one user (the user service's /me, public profile and
dashboard activity, the jobs service's reports summary). The owner caches it with `Cache` under
`<prefix>:<namespace>:<user_id>` and drops it after every write that changes it, after the
commit. The edge reads the views a request needs with one MGET: what it finds it serves as the
owner would have, what is missing it asks the owner for, and the owner caches it again. The owner
stays the only writer, so a view read at the edge is never staler than the owner's own cache, and
a warm dashboard costs one Redis round trip instead of two HTTP hops.

The namespaces are declared here, once, for the owners and the edge alike.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import cast

from prometheus_client import Counter
from redis.asyncio import Redis

from service_common.redis import REDIS_ERRORS

log = logging.getLogger(__name__)

# The user service's views (its prefix is its `cache_prefix` setting, "user" by default).
ME = "me"
PUBLIC = "public"
DASHBOARD = "dashboard"
# The jobs service's view (prefix "jobs").
REPORTS_SUMMARY = "summary"

VIEW_READS = Counter(
    "edge_view_reads_total", "Views read at the edge, by view and outcome", ["view", "outcome"]
)


@dataclass(frozen=True, slots=True)
class View:
    """One owner's cached view: where its entries live in Redis."""

    prefix: str
    namespace: str

    def key(self, user_id: int) -> str:
        """Return the Redis key of one user's entry (the key `Cache` writes it under)."""
        return f"{self.prefix}:{self.namespace}:{user_id}"

    @property
    def name(self) -> str:
        return f"{self.prefix}:{self.namespace}"


class ViewReader:
    """Read owners' views for the edge; fails open (a Redis outage reads as all misses).

    `enabled=False` never touches Redis, for the bench ladder's rungs without the cache.
    """

    def __init__(self, redis: Redis, *, enabled: bool = True) -> None:
        self._redis = redis
        self.enabled = enabled

    async def read(self, user_id: int, *views: View) -> list[bytes | None]:
        """Return each view's cached JSON bytes for one user, or None where it is not cached."""
        if not self.enabled:
            return [None] * len(views)
        try:
            # decode_responses=False (service_common.redis): values come back as bytes.
            found = cast(
                list[bytes | None], await self._redis.mget([v.key(user_id) for v in views])
            )
        except REDIS_ERRORS as exc:
            for view in views:
                VIEW_READS.labels(view.name, "error").inc()
            log.warning("views unavailable, asking their owners", extra={"error": repr(exc)})
            return [None] * len(views)
        for view, raw in zip(views, found, strict=True):
            VIEW_READS.labels(view.name, "miss" if raw is None else "hit").inc()
        return found
