"""Profile, preferences, activity and the dashboard, each in one hop to its owners."""

from __future__ import annotations

import hashlib
from typing import Any

from core_api.peers import Peers, concurrently, read_json
from core_api.users.schemas import PrefsUpdate, ProfileUpdate


async def get_me(*, peers: Peers, user_id: int) -> bytes:
    """Return the user with profile and preferences, as the user service renders it."""
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


async def get_public_profile(*, peers: Peers, user_id: int) -> bytes:
    """Return what anyone may see of a user."""
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


async def dashboard(*, peers: Peers, user_id: int) -> dict[str, Any]:
    """Compose the dashboard from the user's and jobs' summaries, fetched concurrently."""
    activity_response, reports_response = await concurrently(
        peers.request(peers.user, "GET", f"/internal/users/{user_id}/dashboard"),
        peers.request(peers.jobs, "GET", f"/internal/users/{user_id}/reports-summary"),
    )
    activity = read_json(peers.user, activity_response, "user", "recent_events", "events_7d")
    reports = read_json(
        peers.jobs, reports_response, "reports_total", "reports_pending", "recent_reports"
    )
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
