"""Activity rules: recording events, the keyset feed and the cached dashboard."""

from __future__ import annotations

from typing import Any

from service_common.cache import Cache
from service_common.cursor import decode_cursor, encode_cursor
from service_common.errors import NotFound, Unprocessable
from sqlalchemy.ext.asyncio import AsyncSession

from user_service.caching import DASHBOARD, DASHBOARD_TTL_S, invalidate_user
from user_service.events import repository
from user_service.events.schemas import (
    RECENT_EVENTS,
    DashboardRead,
    EventCreate,
    EventCreated,
    EventPage,
    EventRead,
)
from user_service.schemas import BIGINT_MAX


async def record_event(
    *, session: AsyncSession, cache: Cache, user_id: int, data: EventCreate
) -> EventCreated:
    """Record an activity event of a user."""
    event_id = await repository.insert_event(
        session, user_id=user_id, actor_id=data.actor_id, kind=data.kind, payload=data.payload
    )
    if event_id is None:
        raise NotFound("user not found")
    # Commit before invalidating: a read that missed in between would re-cache the old list.
    await session.commit()
    await invalidate_user(cache, user_id, DASHBOARD)
    return EventCreated(id=event_id)


async def list_events(
    *, session: AsyncSession, user_id: int, limit: int, cursor: str | None
) -> EventPage:
    """Return one page of a user's events, newest first, and the cursor of the next page."""
    after = _decode(cursor) if cursor is not None else None
    # One row more than asked tells whether a next page exists, without a count.
    rows = await repository.select_page(session, user_id=user_id, limit=limit + 1, after=after)
    if rows is None:
        raise NotFound("user not found")
    items = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        next_cursor = encode_cursor(items[-1]["created_at"], items[-1]["id"])
    return EventPage(
        items=[EventRead.model_validate(row) for row in items], next_cursor=next_cursor
    )


async def get_dashboard(*, session: AsyncSession, cache: Cache, user_id: int) -> DashboardRead:
    """Return the user, their newest events and their 7-day count, cached for a short while."""

    async def load() -> dict[str, Any] | None:
        row = await repository.select_dashboard(session, user_id=user_id, recent=RECENT_EVENTS)
        if row is None:
            return None
        dashboard = DashboardRead(
            user={
                "id": row["id"],
                "email": row["email"],
                "display_name": row["display_name"],
                "created_at": row["created_at"],
            },
            recent_events=row["recent_events"],
            events_7d=row["events_7d"],
        )
        return dashboard.model_dump(mode="json")

    # Invalidated by this user's new events and profile changes; an actor's new display name
    # shows up in others' dashboards when the short TTL runs out (see caching.DASHBOARD_TTL_S).
    cached = await cache.get_or_load(DASHBOARD, user_id, load, ttl_s=DASHBOARD_TTL_S)
    if cached is None:
        raise NotFound("user not found")
    return DashboardRead.model_validate(cached)


def _decode(cursor: str) -> tuple[Any, int]:
    created_at, event_id = decode_cursor(cursor)
    # A cursor is opaque but not trusted: out-of-range values would reach PostgreSQL as errors.
    if created_at.tzinfo is None or not 1 <= event_id <= BIGINT_MAX:
        raise Unprocessable("invalid cursor")
    return created_at, event_id
