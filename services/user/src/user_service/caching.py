"""What the user service caches, for how long, and what a write must drop."""

from __future__ import annotations

from service_common.cache import Cache

ME = "me"
ME_TTL_S = 300
PUBLIC = "public"
PUBLIC_TTL_S = 300
# Short: a dashboard shows other users' display names (event actors), and an actor renaming
# themselves does not invalidate everyone's dashboard; 30 s of such staleness is accepted.
DASHBOARD = "dashboard"
DASHBOARD_TTL_S = 30


async def invalidate_user(cache: Cache, user_id: int, *namespaces: str) -> None:
    """Drop one user's entries in the given namespaces (call it after the commit)."""
    for namespace in namespaces:
        await cache.invalidate(namespace, user_id)
