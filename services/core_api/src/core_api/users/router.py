"""Public user routes: me, profile, preferences, public profiles, activity, dashboard.

Bodies are the peers' JSON, relayed as bytes or composed with orjson, not re-validated through
the read models: those document the OpenAPI schema (`response_model` on a route that returns a
Response is documentation only). Measured on a 2.4 KB dashboard (10 events, 5 reports):
orjson in and out ~15 us; validating the composed dict into DashboardRead and serialising it
(what `response_model` does) ~40-65 us; jsonable_encoder + JSONResponse ~175-230 us. The peers
already validated what they rendered, so a second pass would buy nothing for that CPU.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response, status
from service_common.responses import OrjsonResponse

from core_api.deps import CurrentUser, PeersDep, ViewsDep
from core_api.schemas import AUTHENTICATED_ERRORS, PEER_ERRORS, errors
from core_api.users import service
from core_api.users.schemas import (
    DashboardRead,
    EventPage,
    MeRead,
    PrefsRead,
    PrefsUpdate,
    ProfileUpdate,
    PublicProfileRead,
)

router = APIRouter(prefix="/v1", tags=["users"])

JSON = "application/json"
PUBLIC_CACHE = "public, max-age=60"
BIGINT_MAX = 2**63 - 1


@router.get("/me", response_model=MeRead, responses=AUTHENTICATED_ERRORS)
async def get_me(user: CurrentUser, peers: PeersDep, views: ViewsDep) -> Response:
    body = await service.get_me(peers=peers, views=views, user_id=user.user_id)
    return Response(body, media_type=JSON)


@router.patch("/me", response_model=MeRead, responses=AUTHENTICATED_ERRORS)
async def update_me(changes: ProfileUpdate, user: CurrentUser, peers: PeersDep) -> Response:
    body = await service.update_profile(peers=peers, user_id=user.user_id, changes=changes)
    return Response(body, media_type=JSON)


@router.put("/me/prefs", response_model=PrefsRead, responses=AUTHENTICATED_ERRORS)
async def replace_prefs(prefs: PrefsUpdate, user: CurrentUser, peers: PeersDep) -> Response:
    body = await service.replace_prefs(peers=peers, user_id=user.user_id, prefs=prefs)
    return Response(body, media_type=JSON)


@router.get("/me/events", response_model=EventPage, responses=AUTHENTICATED_ERRORS)
async def list_events(
    user: CurrentUser,
    peers: PeersDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(min_length=1, max_length=256)] = None,
) -> Response:
    body = await service.list_events(peers=peers, user_id=user.user_id, limit=limit, cursor=cursor)
    return Response(body, media_type=JSON)


@router.get("/me/dashboard", response_model=DashboardRead, responses=AUTHENTICATED_ERRORS)
async def dashboard(user: CurrentUser, peers: PeersDep, views: ViewsDep) -> Response:
    return OrjsonResponse(await service.dashboard(peers=peers, views=views, user_id=user.user_id))


# Public data (no email), so no token is needed and shared caches may keep it for a minute.
@router.get(
    "/users/{user_id}",
    response_model=PublicProfileRead,
    responses={304: {"description": "Not modified"}, **errors(404), **PEER_ERRORS},
)
async def get_public_profile(
    user_id: Annotated[int, Path(ge=1, le=BIGINT_MAX)],
    peers: PeersDep,
    views: ViewsDep,
    if_none_match: Annotated[str | None, Header(max_length=1024)] = None,
) -> Response:
    body = await service.get_public_profile(peers=peers, views=views, user_id=user_id)
    etag = service.weak_etag(body)
    headers = {"ETag": etag, "Cache-Control": PUBLIC_CACHE}
    if service.etag_matches(if_none_match, etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(body, media_type=JSON, headers=headers)
