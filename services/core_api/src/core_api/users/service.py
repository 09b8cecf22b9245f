"""Profile, preferences, activity and the dashboard: from the owners' cached views, or one hop.

Reads of /me, a public profile and the dashboard look at the owners' cached views first (see
`core_api.users.views`); a write always goes to the owner, which drops the views it changes.
"""

from __future__ import annotations

import hashlib
from typing import Any

from core_api.peers import Peers, concurrently, read_json
from core_api.users.schemas import PrefsUpdate, ProfileUpdate
from core_api.users.views import UserViews, parse_object

ACTIVITY_KEYS = ("user", "recent_events", "events_7d")
REPORTS_KEYS = ("reports_total", "reports_pending", "recent_reports")


async def get_me(*, peers: Peers, views: UserViews, user_id: int) -> bytes:
    """Return the user with profile and preferences, as the user service renders it."""
    (cached,) = await views.read(user_id, views.me)
    if cached is not None:
        return cached
    response = await peers.request(peers.user, "GET", f"/internal/users/{user_id}/me")
    return response.content


async def update_profile(*, peers: Peers, user_id: int, changes: ProfileUpdate) -> bytes:
    """Apply the fields sent, and only those."""
    response = await peers.request(
        peers.user,
        "PATCH",
        f"/internal/users/{user_id}/profile",
        json=changes.model_dump(exclude_unset=True),
    )
    return response.content


async def replace_prefs(*, peers: Peers, user_id: int, prefs: PrefsUpdate) -> bytes:
    """Replace the whole preferences record."""
    response = await peers.request(
        peers.user, "PUT", f"/internal/users/{user_id}/prefs", json=prefs.model_dump()
    )
    return response.content


async def get_public_profile(*, peers: Peers, views: UserViews, user_id: int) -> bytes:
    """Return what anyone may see of a user."""
    (cached,) = await views.read(user_id, views.public)
    if cached is not None:
        return cached
    response = await peers.request(peers.user, "GET", f"/internal/users/{user_id}/public")
    return response.content


def weak_etag(body: bytes) -> str:
    """Name a representation by its content: equal bytes, equal tag, whoever rendered them."""
    return f'W/"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Apply If-None-Match's weak comparison (RFC 9110, section 13.1.2)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == opaque for tag in if_none_match.split(","))


async def list_events(*, peers: Peers, user_id: int, limit: int, cursor: str | None) -> bytes:
    """Return one page of the user's activity feed."""
    params: dict[str, Any] = {"limit": limit}
    if cursor is not None:
        params["cursor"] = cursor
    response = await peers.request(
        peers.user, "GET", f"/internal/users/{user_id}/events", params=params
    )
    return response.content


async def dashboard(*, peers: Peers, views: UserViews, user_id: int) -> dict[str, Any]:
    """Compose the dashboard from the user's and jobs' summaries, cached or fetched concurrently."""
    cached_activity, cached_reports = await views.read(user_id, views.activity, views.reports)
    activity = parse_object(cached_activity, *ACTIVITY_KEYS)
    reports = parse_object(cached_reports, *REPORTS_KEYS)
    calls = []
    if activity is None:
        calls.append(peers.request(peers.user, "GET", f"/internal/users/{user_id}/dashboard"))
    if reports is None:
        calls.append(peers.request(peers.jobs, "GET", f"/internal/users/{user_id}/reports-summary"))
    fetched = iter(await concurrently(*calls)) if calls else iter(())
    if activity is None:
        activity = read_json(peers.user, next(fetched), *ACTIVITY_KEYS)
    if reports is None:
        reports = read_json(peers.jobs, next(fetched), *REPORTS_KEYS)
    return {
        "user": activity["user"],
        "recent_events": activity["recent_events"],
        "stats": {
            "events_7d": activity["events_7d"],
            "reports_total": reports["reports_total"],
            "reports_pending": reports["reports_pending"],
        },
        "recent_reports": reports["recent_reports"],
    }
