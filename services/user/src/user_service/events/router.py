"""Internal activity routes: record, feed and dashboard."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from user_service.deps import CacheDep, ReadSessionDep, SessionDep
from user_service.events import service
from user_service.events.schemas import (
    DEFAULT_PAGE,
    MAX_PAGE,
    DashboardRead,
    EventCreate,
    EventCreated,
    EventPage,
)
from user_service.schemas import UserIdPath

router = APIRouter(prefix="/internal/users", tags=["events"])


@router.post("/{user_id}/events", status_code=status.HTTP_201_CREATED)
async def record_event(
    user_id: UserIdPath, data: EventCreate, session: SessionDep, cache: CacheDep
) -> EventCreated:
    return await service.record_event(session=session, cache=cache, user_id=user_id, data=data)


@router.get("/{user_id}/events")
async def list_events(
    user_id: UserIdPath,
    session: ReadSessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    cursor: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> EventPage:
    return await service.list_events(session=session, user_id=user_id, limit=limit, cursor=cursor)


@router.get("/{user_id}/dashboard")
async def get_dashboard(
    user_id: UserIdPath, session: ReadSessionDep, cache: CacheDep
) -> DashboardRead:
    return await service.get_dashboard(session=session, cache=cache, user_id=user_id)
