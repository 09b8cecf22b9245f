"""Public auth routes: register, login, refresh, logout."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from service_common.responses import OrjsonResponse
from starlette.background import BackgroundTask

from core_api.auth import service
from core_api.auth.schemas import (
    AccountCreate,
    AccountRead,
    SessionCreate,
    SessionRefresh,
    TokenPairRead,
)
from core_api.deps import ClientIP, CurrentUser, LoginGuardDep, PeersDep
from core_api.schemas import AUTHENTICATED_ERRORS, PEER_ERRORS, errors

router = APIRouter(prefix="/v1/auth", tags=["auth"])

# Token responses must not be stored by any cache (RFC 6749, section 5.1).
NO_STORE = {"Cache-Control": "no-store"}


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=AccountRead,
    responses={**errors(409), **PEER_ERRORS},
)
async def register(data: AccountCreate, peers: PeersDep) -> Response:
    account = await service.register(peers=peers, data=data)
    return OrjsonResponse(account, status_code=status.HTTP_201_CREATED)


@router.post("/login", response_model=TokenPairRead, responses={**errors(401, 429), **PEER_ERRORS})
async def login(
    data: SessionCreate, peers: PeersDep, guard: LoginGuardDep, ip: ClientIP
) -> Response:
    pair, limit_headers, user_id = await service.login(peers=peers, guard=guard, data=data, ip=ip)
    # The activity event goes out after the response is sent (a Starlette BackgroundTask in this
    # worker): the caller does not wait for a second hop, and a failure there is only logged.
    record = BackgroundTask(service.record_login, peers=peers, user_id=user_id, ip=ip)
    return OrjsonResponse(pair, headers={**limit_headers, **NO_STORE}, background=record)


@router.post("/refresh", response_model=TokenPairRead, responses={**errors(401), **PEER_ERRORS})
async def refresh(data: SessionRefresh, peers: PeersDep) -> Response:
    pair = await service.refresh(peers=peers, refresh_token=data.refresh_token)
    return OrjsonResponse(pair, headers=NO_STORE)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=AUTHENTICATED_ERRORS)
async def logout(user: CurrentUser, peers: PeersDep) -> Response:
    await service.logout(peers=peers, session_id=user.session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
