"""Internal session routes: login, refresh, logout and the revocation fallback."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from identity_service.deps import ReadSessionDep, RedisDep, SessionDep, SettingsDep, TokensDep
from identity_service.sessions import service
from identity_service.sessions.schemas import (
    SessionCreate,
    SessionRefresh,
    SessionStatusRead,
    TokenPairRead,
)

router = APIRouter(prefix="/internal/sessions", tags=["sessions"])


@router.post("")
async def login(
    data: SessionCreate, session: SessionDep, tokens: TokensDep, settings: SettingsDep
) -> TokenPairRead:
    return await service.login(session=session, tokens=tokens, jwt=settings.jwt, data=data)


@router.post("/refresh")
async def refresh(
    data: SessionRefresh,
    session: SessionDep,
    redis: RedisDep,
    tokens: TokensDep,
    settings: SettingsDep,
) -> TokenPairRead:
    return await service.refresh(
        session=session,
        redis=redis,
        tokens=tokens,
        jwt=settings.jwt,
        refresh_token=data.refresh_token,
    )


@router.post("/{session_id}/revoke", status_code=status.HTTP_204_NO_CONTENT)
async def revoke(
    session_id: uuid.UUID, session: SessionDep, redis: RedisDep, settings: SettingsDep
) -> Response:
    await service.revoke(session=session, redis=redis, jwt=settings.jwt, session_id=session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{session_id}")
async def session_status(session_id: uuid.UUID, session: ReadSessionDep) -> SessionStatusRead:
    return SessionStatusRead(active=await service.is_active(session=session, session_id=session_id))
