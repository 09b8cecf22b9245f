"""Queries on identity.sessions."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import RowMapping, text
from sqlalchemy.ext.asyncio import AsyncSession

_INSERT = text(
    """
    INSERT INTO identity.sessions (id, user_id, refresh_jti, expires_at)
    VALUES (:id, :user_id, :refresh_jti, :expires_at)
    """
)
# FOR UPDATE: two refreshes of one session queue here, so only one can rotate it.
_LOCK = text(
    """
    SELECT user_id, refresh_jti, expires_at, revoked_at
    FROM identity.sessions WHERE id = :id
    FOR UPDATE
    """
)
_ROTATE = text("UPDATE identity.sessions SET refresh_jti = :refresh_jti WHERE id = :id")
_REVOKE = text(
    """
    UPDATE identity.sessions SET revoked_at = coalesce(revoked_at, now())
    WHERE id = :id
    RETURNING id
    """
)
_ACTIVE = text(
    """
    SELECT revoked_at IS NULL AND expires_at > now() AS active
    FROM identity.sessions WHERE id = :id
    """
)


async def insert_session(
    session: AsyncSession,
    *,
    session_id: uuid.UUID,
    user_id: int,
    refresh_jti: uuid.UUID,
    expires_at: datetime,
) -> None:
    """Record a new login session."""
    await session.execute(
        _INSERT,
        {
            "id": session_id,
            "user_id": user_id,
            "refresh_jti": refresh_jti,
            "expires_at": expires_at,
        },
    )


async def lock_session(session: AsyncSession, *, session_id: uuid.UUID) -> RowMapping | None:
    """Return a session row locked until the transaction ends, or None."""
    result = await session.execute(_LOCK, {"id": session_id})
    return result.mappings().one_or_none()


async def rotate_refresh(
    session: AsyncSession, *, session_id: uuid.UUID, refresh_jti: uuid.UUID
) -> None:
    """Store the id of the only refresh token of the session still accepted."""
    await session.execute(_ROTATE, {"id": session_id, "refresh_jti": refresh_jti})


async def revoke_session(session: AsyncSession, *, session_id: uuid.UUID) -> bool:
    """Mark a session revoked (keeping the first revocation time); False when it is unknown."""
    result = await session.execute(_REVOKE, {"id": session_id})
    return result.first() is not None


async def is_active(session: AsyncSession, *, session_id: uuid.UUID) -> bool:
    """Tell whether a session exists, is not revoked and has not expired."""
    result = await session.execute(_ACTIVE, {"id": session_id})
    return bool(result.scalar_one_or_none())
