"""Public report routes, and the signed file route a download link points to."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from fastapi.responses import RedirectResponse, StreamingResponse

from core_api.deps import CurrentUser, PeersDep, SettingsDep
from core_api.peers import relay
from core_api.reports import service
from core_api.reports.schemas import ReportAccepted, ReportCreate, ReportList, ReportRead
from core_api.schemas import AUTHENTICATED_ERRORS, PEER_ERRORS, errors

router = APIRouter(prefix="/v1", tags=["reports"])

JSON = "application/json"
BIGINT_MAX = 2**63 - 1


@router.post(
    "/reports",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReportAccepted,
    responses=AUTHENTICATED_ERRORS,
)
async def request_report(
    data: ReportCreate,
    user: CurrentUser,
    peers: PeersDep,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=255)] = None,
) -> Response:
    body = await service.request_report(
        peers=peers, user_id=user.user_id, data=data, idempotency_key=idempotency_key
    )
    return Response(body, status_code=status.HTTP_202_ACCEPTED, media_type=JSON)


@router.get("/reports", response_model=ReportList, responses=AUTHENTICATED_ERRORS)
async def list_reports(user: CurrentUser, peers: PeersDep) -> Response:
    body = await service.list_reports(peers=peers, user_id=user.user_id)
    return Response(body, media_type=JSON)


@router.get(
    "/reports/{report_id}",
    response_model=ReportRead,
    responses={**errors(404), **AUTHENTICATED_ERRORS},
)
async def get_report(report_id: uuid.UUID, user: CurrentUser, peers: PeersDep) -> Response:
    body = await service.get_report(peers=peers, user_id=user.user_id, report_id=report_id)
    return Response(body, media_type=JSON)


@router.get(
    "/reports/{report_id}/download",
    status_code=status.HTTP_307_TEMPORARY_REDIRECT,
    response_class=RedirectResponse,
    responses={**errors(404, 409), **AUTHENTICATED_ERRORS},
)
async def download_report(
    report_id: uuid.UUID, user: CurrentUser, peers: PeersDep, settings: SettingsDep
) -> Response:
    url = await service.download_url(
        peers=peers, downloads=settings.downloads, user_id=user.user_id, report_id=report_id
    )
    return RedirectResponse(url, status_code=status.HTTP_307_TEMPORARY_REDIRECT)


# No bearer token: the signed link is the permission (a browser follows it without headers).
@router.get(
    "/files/reports/{report_id}",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The report's PDF"},
        **errors(404),
        **PEER_ERRORS,
    },
)
async def download_file(
    report_id: uuid.UUID,
    peers: PeersDep,
    settings: SettingsDep,
    user_id: Annotated[int, Query(ge=1, le=BIGINT_MAX)],
    expires: Annotated[int, Query(ge=0, le=BIGINT_MAX)],
    signature: Annotated[str, Query(max_length=128)],
) -> Response:
    pdf = await service.open_file(
        peers=peers,
        downloads=settings.downloads,
        report_id=report_id,
        user_id=user_id,
        expires=expires,
        signature=signature,
    )
    headers = {
        "Content-Disposition": f"attachment; filename=report-{report_id}.pdf",
        # The link is a credential: no shared cache may keep what it opened.
        "Cache-Control": "private, no-store",
    }
    # Relayed as received: the length holds unless the peer ignored `accept-encoding: identity`.
    if "content-length" in pdf.headers and "content-encoding" not in pdf.headers:
        headers["Content-Length"] = pdf.headers["content-length"]
    return StreamingResponse(relay(pdf), media_type="application/pdf", headers=headers)
