"""Internal item routes: parse, call the service, return (core_api would be the caller)."""

from __future__ import annotations

from fastapi import APIRouter, status

from skeleton_service.deps import CacheDep, ReadSessionDep, SessionDep
from skeleton_service.items import service
from skeleton_service.items.schemas import (
    DEFAULT_PAGE,
    ItemCreate,
    ItemIdPath,
    ItemPage,
    ItemRead,
    PageLimit,
)

router = APIRouter(prefix="/internal/items", tags=["items"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_item(data: ItemCreate, session: SessionDep) -> ItemRead:
    return await service.create_item(session=session, data=data)


@router.get("")
async def list_items(session: ReadSessionDep, limit: PageLimit = DEFAULT_PAGE) -> ItemPage:
    return await service.list_items(session=session, limit=limit)


@router.get("/{item_id}")
async def get_item(item_id: ItemIdPath, session: ReadSessionDep, cache: CacheDep) -> ItemRead:
    return await service.get_item(session=session, cache=cache, item_id=item_id)
