"""The gateway's report routes, including the signed, expiring download link."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import RedirectResponse, Response

from before_layout import peers
from before_layout.errors import ApiError
from before_layout.settings import get_settings

router = APIRouter()
Authorization = Annotated[str | None, Header()]


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["activity_pdf"]
    days: int = Field(ge=1, le=90)


def _authenticate(authorization: str | None) -> int:
    verified = peers.call("GET", "auth", "/internal/verify", headers=peers.bearer(authorization))
    return int(verified.json()["user_id"])


def download_signature(report_id: uuid.UUID, user_id: int, expires: int) -> str:
    """Return the HMAC-SHA256 over report id, user id and expiry."""
    message = f"{report_id}:{user_id}:{expires}".encode()
    key = get_settings().download_secret.encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@router.post("/v1/reports", status_code=202)
async def create_report(
    body: ReportIn,
    authorization: Authorization = None,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Any:
    """Answer 202 like the after layout, but only once the report is already done (or failed)."""
    _authenticate(authorization)
    headers = peers.bearer(authorization)
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return peers.call(
        "POST", "report", "/internal/me/reports", json=body.model_dump(), headers=headers
    ).json()


@router.get("/v1/reports")
async def list_reports(authorization: Authorization = None) -> Any:
    _authenticate(authorization)
    headers = peers.bearer(authorization)
    return peers.call("GET", "report", "/internal/me/reports", headers=headers).json()


@router.get("/v1/reports/{report_id}")
async def get_report(report_id: uuid.UUID, authorization: Authorization = None) -> Any:
    _authenticate(authorization)
    headers = peers.bearer(authorization)
    return peers.call("GET", "report", f"/internal/me/reports/{report_id}", headers=headers).json()


@router.get("/v1/reports/{report_id}/download")
async def download(report_id: uuid.UUID, authorization: Authorization = None) -> Response:
    user_id = _authenticate(authorization)
    headers = peers.bearer(authorization)
    report = peers.call(
        "GET", "report", f"/internal/me/reports/{report_id}", headers=headers
    ).json()
    if report["status"] != "done":
        raise ApiError(409, f"report is {report['status']}, not done")
    expires = int(time.time()) + get_settings().download_ttl_s
    signature = download_signature(report_id, user_id, expires)
    location = f"/v1/files/reports/{report_id}?expires={expires}&signature={signature}"
    return RedirectResponse(location, status_code=307)


@router.get("/v1/files/reports/{report_id}")
async def report_file(
    report_id: uuid.UUID,
    expires: Annotated[int, Query()],
    signature: Annotated[str, Query(max_length=128)],
) -> Response:
    """Serve a PDF to whoever holds an unexpired link signed for its owner."""
    if expires < time.time():
        raise ApiError(403, "download link expired")
    file = peers.call("GET", "report", f"/internal/reports/{report_id}/file")
    owner = int(file.headers["X-Report-User-Id"])
    if not hmac.compare_digest(download_signature(report_id, owner, expires), signature):
        raise ApiError(403, "invalid download signature")
    return Response(
        file.content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="report-{report_id}.pdf"'},
    )
