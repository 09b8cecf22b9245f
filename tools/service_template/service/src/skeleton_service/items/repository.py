"""Queries on skeleton.items: explicit column lists, one statement per call."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import RowMapping, text
from sqlalchemy.ext.asyncio import AsyncSession

_COLUMNS = "id, name, description, created_at"
_INSERT = text(
    f"""
    INSERT INTO skeleton.items (name, description)
    VALUES (:name, :description)
    RETURNING {_COLUMNS}
    """
)
_ONE = text(f"SELECT {_COLUMNS} FROM skeleton.items WHERE id = :id")
# Walks ix_items_created newest first and stops at the limit.
_NEWEST = text(
    f"""
    SELECT {_COLUMNS} FROM skeleton.items
    ORDER BY created_at DESC, id DESC
    LIMIT :limit
    """
)


async def insert_item(session: AsyncSession, *, name: str, description: str) -> RowMapping:
    """Insert an item; a taken name raises IntegrityError (the unique index decides)."""
    result = await session.execute(_INSERT, {"name": name, "description": description})
    return result.mappings().one()


async def select_item(session: AsyncSession, *, item_id: int) -> RowMapping | None:
    """Return one item, or None."""
    result = await session.execute(_ONE, {"id": item_id})
    return result.mappings().one_or_none()


async def select_newest(session: AsyncSession, *, limit: int) -> Sequence[RowMapping]:
    """Return the newest items, newest first."""
    result = await session.execute(_NEWEST, {"limit": limit})
    return result.mappings().all()
