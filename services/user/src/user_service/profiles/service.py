"""Profile and preference rules: cached reads, writes that invalidate after they commit."""

from __future__ import annotations

from collections.abc import Sequence

from service_common.cache import Cache
from service_common.errors import Conflict, NotFound
from sqlalchemy import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from user_service.caching import (
    DASHBOARD,
    ME,
    ME_TTL_S,
    PUBLIC,
    PUBLIC_TTL_S,
    invalidate_user,
)
from user_service.events.repository import insert_event
from user_service.profiles import repository
from user_service.profiles.schemas import (
    MeRead,
    PrefsRead,
    PrefsUpdate,
    ProfileUpdate,
    PublicProfileRead,
    UserCreate,
)
from user_service.webhooks import ensure_public_webhook

PROFILE_UPDATED = "profile.updated"


async def create_user(*, session: AsyncSession, cache: Cache, data: UserCreate) -> MeRead:
    """Create a user's profile with default prefs, or raise Conflict when the id exists."""
    try:
        row = await repository.insert_user(
            session, user_id=data.id, email=data.email, display_name=data.display_name
        )
    except IntegrityError as exc:
        raise Conflict("user already exists") from exc
    await session.commit()
    # Nothing should be cached for a new id; dropping it anyway costs one round trip on a
    # rare write and rules out a stale entry from a recycled test database.
    await invalidate_user(cache, data.id, ME, PUBLIC, DASHBOARD)
    return _me(row)


async def get_me(*, session: AsyncSession, cache: Cache, user_id: int) -> MeRead:
    """Return a user's profile and prefs, from the cache when it has them."""

    async def load() -> dict[str, object] | None:
        row = await repository.select_me(session, user_id=user_id)
        return None if row is None else _me(row).model_dump(mode="json")

    cached = await cache.get_or_load(ME, user_id, load, ttl_s=ME_TTL_S)
    if cached is None:
        raise NotFound("user not found")
    return MeRead.model_validate(cached)


async def get_public(*, session: AsyncSession, cache: Cache, user_id: int) -> PublicProfileRead:
    """Return the public part of a profile, from the cache when it has it."""

    async def load() -> dict[str, object] | None:
        row = await repository.select_public(session, user_id=user_id)
        # Rendered as the route answers it: core_api serves this entry as it is (a view).
        if row is None:
            return None
        return PublicProfileRead.model_validate(dict(row)).model_dump(mode="json")

    cached = await cache.get_or_load(PUBLIC, user_id, load, ttl_s=PUBLIC_TTL_S)
    if cached is None:
        raise NotFound("user not found")
    return PublicProfileRead.model_validate(cached)


async def update_profile(
    *, session: AsyncSession, cache: Cache, user_id: int, data: ProfileUpdate
) -> MeRead:
    """Write the fields sent, record a `profile.updated` event, and return the new /me."""
    changes = data.changes()
    row = await repository.update_profile(session, user_id=user_id, changes=changes)
    if row is None:
        raise NotFound("user not found")
    await insert_event(
        session,
        user_id=user_id,
        actor_id=user_id,
        kind=PROFILE_UPDATED,
        payload={"fields": list(changes)},
    )
    # Commit before invalidating: a read that missed in between would re-cache the old row.
    await session.commit()
    await invalidate_user(cache, user_id, ME, PUBLIC, DASHBOARD)
    return _me(row)


async def replace_prefs(
    *,
    session: AsyncSession,
    cache: Cache,
    user_id: int,
    data: PrefsUpdate,
    webhook_allowed_hosts: Sequence[str],
) -> PrefsRead:
    """Replace a user's prefs; a webhook URL must not point into a private network."""
    if data.webhook_url is not None:
        await ensure_public_webhook(data.webhook_url, allowed_hosts=webhook_allowed_hosts)
    row = await repository.update_prefs(
        session,
        user_id=user_id,
        theme=data.theme,
        locale=data.locale,
        email_notifications=data.email_notifications,
        webhook_url=data.webhook_url,
    )
    if row is None:
        raise NotFound("user not found")
    await session.commit()
    await invalidate_user(cache, user_id, ME)
    return PrefsRead.model_validate(dict(row))


def _me(row: RowMapping) -> MeRead:
    return MeRead(
        id=row["id"],
        email=row["email"],
        display_name=row["display_name"],
        created_at=row["created_at"],
        bio=row["bio"],
        avatar_url=row["avatar_url"],
        prefs=PrefsRead(
            theme=row["theme"],
            locale=row["locale"],
            email_notifications=row["email_notifications"],
            webhook_url=row["webhook_url"],
        ),
    )
