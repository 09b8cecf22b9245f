"""Internal profile and preference routes (core_api is the only caller)."""

from __future__ import annotations

from fastapi import APIRouter, status

from user_service.deps import CacheDep, ReadSessionDep, SessionDep, SettingsDep
from user_service.profiles import service
from user_service.profiles.schemas import (
    MeRead,
    PrefsRead,
    PrefsUpdate,
    ProfileUpdate,
    PublicProfileRead,
    UserCreate,
)
from user_service.schemas import UserIdPath

router = APIRouter(prefix="/internal/users", tags=["profiles"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_user(data: UserCreate, session: SessionDep, cache: CacheDep) -> MeRead:
    return await service.create_user(session=session, cache=cache, data=data)


@router.get("/{user_id}/me")
async def get_me(user_id: UserIdPath, session: ReadSessionDep, cache: CacheDep) -> MeRead:
    return await service.get_me(session=session, cache=cache, user_id=user_id)


@router.patch("/{user_id}/profile")
async def update_profile(
    user_id: UserIdPath, data: ProfileUpdate, session: SessionDep, cache: CacheDep
) -> MeRead:
    return await service.update_profile(session=session, cache=cache, user_id=user_id, data=data)


@router.put("/{user_id}/prefs")
async def replace_prefs(
    user_id: UserIdPath,
    data: PrefsUpdate,
    session: SessionDep,
    cache: CacheDep,
    settings: SettingsDep,
) -> PrefsRead:
    return await service.replace_prefs(
        session=session,
        cache=cache,
        user_id=user_id,
        data=data,
        webhook_allowed_hosts=settings.webhook_allowed_hosts,
    )


@router.get("/{user_id}/public")
async def get_public(
    user_id: UserIdPath, session: ReadSessionDep, cache: CacheDep
) -> PublicProfileRead:
    return await service.get_public(session=session, cache=cache, user_id=user_id)
