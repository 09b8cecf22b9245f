"""What the user service caches, for how long, and what a write must drop."""

from __future__ import annotations

from service_common.cache import Cache

# The namespaces are views (service_common.views): core_api reads these entries directly, so
# what is cached under them must be exactly the JSON the internal routes answer.
from service_common.views import DASHBOARD as DASHBOARD
from service_common.views import ME as ME
from service_common.views import PUBLIC as PUBLIC

ME_TTL_S = 300
PUBLIC_TTL_S = 300
# Short: a dashboard shows other users' display names (event actors), and an actor renaming
# themselves does not invalidate everyone's dashboard; 30 s of such staleness is accepted.
DASHBOARD_TTL_S = 30


async def invalidate_user(cache: Cache, user_id: int, *namespaces: str) -> None:
    """Drop one user's entries in the given namespaces (call it after the commit)."""
    for namespace in namespaces:
        await cache.invalidate(namespace, user_id)
