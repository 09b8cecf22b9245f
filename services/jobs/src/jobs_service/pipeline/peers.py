"""Calls from the worker to the user service's internal API: profile, activity, events."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx
from service_common.errors import BadGateway, GatewayTimeout, ServiceUnavailable
from service_common.http import call

PEER = "user service"
PAGE_SIZE = 100
MAX_EVENTS = 500  # the PDF table shows at most this many rows; fetching more is wasted work

#: The user service did not answer usefully now; the task retries later.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (BadGateway, GatewayTimeout, ServiceUnavailable)

Record = dict[str, Any]


async def get_me(client: httpx.AsyncClient, *, user_id: int) -> Record:
    """Return the user with profile and prefs (email, display_name, prefs{...})."""
    response = await call(client, PEER, "GET", f"/internal/users/{user_id}/me")
    me: Record = response.json()
    return me


async def recent_events(
    client: httpx.AsyncClient, *, user_id: int, since: datetime, limit: int = MAX_EVENTS
) -> list[Record]:
    """Return the user's events newer than `since`, newest first, at most `limit`."""
    events: list[Record] = []
    cursor: str | None = None
    while len(events) < limit:
        params: dict[str, Any] = {"limit": min(PAGE_SIZE, limit - len(events))}
        if cursor is not None:
            params["cursor"] = cursor
        response = await call(
            client, PEER, "GET", f"/internal/users/{user_id}/events", params=params
        )
        page = response.json()
        for item in page["items"]:
            created_at = datetime.fromisoformat(item["created_at"])
            if created_at < since:
                return events  # the feed is newest first: everything after is older too
            events.append(_for_pdf(item, created_at))
        cursor = page.get("next_cursor")
        if cursor is None:
            break
    return events


def _for_pdf(item: Mapping[str, Any], created_at: datetime) -> Record:
    actor = item.get("actor") or {}
    payload = item.get("payload") or {}
    summary = ", ".join(f"{k}={v}" for k, v in payload.items()) if isinstance(payload, dict) else ""
    return {
        "created_at": created_at,
        "kind": item["kind"],
        "actor_name": actor.get("display_name"),
        "summary": summary,
    }


async def record_event(
    client: httpx.AsyncClient, *, user_id: int, kind: str, payload: Mapping[str, Any]
) -> None:
    """Add an activity event to the user's feed (the user is their own actor)."""
    await call(
        client,
        PEER,
        "POST",
        f"/internal/users/{user_id}/events",
        json={"kind": kind, "actor_id": user_id, "payload": dict(payload)},
    )
