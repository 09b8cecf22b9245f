"""Queries on identity.accounts."""

from __future__ import annotations

from sqlalchemy import RowMapping, text
from sqlalchemy.ext.asyncio import AsyncSession

_INSERT = text(
    """
    INSERT INTO identity.accounts (email, password_hash)
    VALUES (:email, :password_hash)
    RETURNING id, email, created_at
    """
)
_DELETE = text("DELETE FROM identity.accounts WHERE id = :id")
_CREDENTIALS = text("SELECT id, password_hash FROM identity.accounts WHERE email = :email")


async def insert_account(session: AsyncSession, *, email: str, password_hash: str) -> RowMapping:
    """Insert an account; a taken email raises IntegrityError (the unique index decides)."""
    result = await session.execute(_INSERT, {"email": email, "password_hash": password_hash})
    return result.mappings().one()


async def delete_account(session: AsyncSession, *, account_id: int) -> None:
    """Delete an account and, by cascade, its sessions."""
    await session.execute(_DELETE, {"id": account_id})


async def find_credentials(session: AsyncSession, *, email: str) -> RowMapping | None:
    """Return the id and password hash of the account with this email, if any."""
    result = await session.execute(_CREDENTIALS, {"email": email})
    return result.mappings().one_or_none()
