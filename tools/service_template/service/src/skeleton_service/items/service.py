"""Item rules: names are unique, items never change, so a cached item never goes stale."""

from __future__ import annotations

from service_common.cache import Cache
from service_common.errors import Conflict, NotFound
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from skeleton_service.items import repository
from skeleton_service.items.schemas import ItemCreate, ItemPage, ItemRead

ITEM = "item"
ITEM_TTL_S = 300


async def create_item(*, session: AsyncSession, data: ItemCreate) -> ItemRead:
    """Create an item, or raise Conflict when its name is taken."""
    try:
        # No "is it taken?" pre-check: two concurrent creations would both pass it.
        row = await repository.insert_item(session, name=data.name, description=data.description)
    except IntegrityError as exc:
        raise Conflict("an item with this name exists") from exc
    return ItemRead.model_validate(dict(row))


async def get_item(*, session: AsyncSession, cache: Cache, item_id: int) -> ItemRead:
    """Return one item, from the cache when it has it."""

    async def load() -> dict[str, object] | None:
        row = await repository.select_item(session, item_id=item_id)
        return None if row is None else ItemRead.model_validate(dict(row)).model_dump(mode="json")

    cached = await cache.get_or_load(ITEM, item_id, load, ttl_s=ITEM_TTL_S)
    if cached is None:
        raise NotFound("item not found")
    return ItemRead.model_validate(cached)


async def list_items(*, session: AsyncSession, limit: int) -> ItemPage:
    """Return the newest items."""
    rows = await repository.select_newest(session, limit=limit)
    return ItemPage(items=[ItemRead.model_validate(dict(row)) for row in rows])
