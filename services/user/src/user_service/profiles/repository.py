"""Queries on users.profiles and users.prefs."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import RowMapping, text
from sqlalchemy.ext.asyncio import AsyncSession

_ME_COLUMNS = """
    p.user_id AS id, p.email, p.display_name, p.created_at, p.bio, p.avatar_url,
    f.theme, f.locale, f.email_notifications, f.webhook_url
"""
# One statement: the prefs row is inserted from the profile's RETURNING, so neither exists
# without the other.
_INSERT = text(
    f"""
    WITH p AS (
        INSERT INTO users.profiles (user_id, email, display_name)
        VALUES (:id, :email, :display_name)
        RETURNING user_id, email, display_name, created_at, bio, avatar_url
    ), f AS (
        INSERT INTO users.prefs (user_id) SELECT user_id FROM p
        RETURNING user_id, theme, locale, email_notifications, webhook_url
    )
    SELECT {_ME_COLUMNS} FROM p JOIN f ON f.user_id = p.user_id
    """
)
_ME = text(
    f"""
    SELECT {_ME_COLUMNS}
    FROM users.profiles p JOIN users.prefs f ON f.user_id = p.user_id
    WHERE p.user_id = :id
    """
)
_PUBLIC = text(
    "SELECT user_id AS id, display_name, bio, avatar_url FROM users.profiles WHERE user_id = :id"
)
_UPDATE_PREFS = text(
    """
    UPDATE users.prefs
    SET theme = :theme, locale = :locale, email_notifications = :email_notifications,
        webhook_url = :webhook_url, updated_at = now()
    WHERE user_id = :id
    RETURNING theme, locale, email_notifications, webhook_url
    """
)
# The only columns a profile update may name; the statement is built from this list, never
# from caller input.
UPDATABLE_COLUMNS = ("display_name", "bio", "avatar_url")


async def insert_user(
    session: AsyncSession, *, user_id: int, email: str, display_name: str
) -> RowMapping:
    """Insert a profile and its default prefs; a taken id raises IntegrityError."""
    params = {"id": user_id, "email": email, "display_name": display_name}
    result = await session.execute(_INSERT, params)
    return result.mappings().one()


async def select_me(session: AsyncSession, *, user_id: int) -> RowMapping | None:
    """Return a user's profile joined with their prefs."""
    result = await session.execute(_ME, {"id": user_id})
    return result.mappings().one_or_none()


async def select_public(session: AsyncSession, *, user_id: int) -> RowMapping | None:
    """Return the public part of a profile."""
    result = await session.execute(_PUBLIC, {"id": user_id})
    return result.mappings().one_or_none()


async def update_profile(
    session: AsyncSession, *, user_id: int, changes: Mapping[str, str | None]
) -> RowMapping | None:
    """Write the given profile columns; return the user's /me row, or None if unknown."""
    unknown = set(changes) - set(UPDATABLE_COLUMNS)
    if unknown or not changes:
        raise ValueError(f"not updatable: {sorted(unknown) or 'nothing'}")
    assignments = ", ".join(
        f"{column} = :{column}" for column in UPDATABLE_COLUMNS if column in changes
    )
    statement = text(
        f"""
        UPDATE users.profiles p SET {assignments}, updated_at = now()
        FROM users.prefs f
        WHERE p.user_id = :id AND f.user_id = p.user_id
        RETURNING {_ME_COLUMNS}
        """
    )
    result = await session.execute(statement, {**changes, "id": user_id})
    return result.mappings().one_or_none()


async def update_prefs(
    session: AsyncSession,
    *,
    user_id: int,
    theme: str,
    locale: str,
    email_notifications: bool,
    webhook_url: str | None,
) -> RowMapping | None:
    """Replace a user's prefs; return them, or None if the user is unknown."""
    params = {
        "id": user_id,
        "theme": theme,
        "locale": locale,
        "email_notifications": email_notifications,
        "webhook_url": webhook_url,
    }
    result = await session.execute(_UPDATE_PREFS, params)
    return result.mappings().one_or_none()
