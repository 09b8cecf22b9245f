"""Reports: requested and listed at jobs, downloaded through signed, expiring links."""

from __future__ import annotations

import uuid

import httpx
from service_common.errors import Conflict, NotFound

from core_api.peers import Peers, read_json
from core_api.reports import signing
from core_api.reports.schemas import ReportCreate
from core_api.settings import DownloadSettings


async def request_report(
    *, peers: Peers, user_id: int, data: ReportCreate, idempotency_key: str | None
) -> bytes:
    """Queue a report; the same Idempotency-Key and body give back the same report."""
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key is not None else None
    response = await peers.request(
        peers.jobs,
        "POST",
        f"/internal/users/{user_id}/reports",
        json=data.model_dump(),
        headers=headers,
    )
    return response.content


async def list_reports(*, peers: Peers, user_id: int) -> bytes:
    """Return the user's own reports, newest first."""
    response = await peers.request(peers.jobs, "GET", f"/internal/users/{user_id}/reports")
    return response.content


async def get_report(*, peers: Peers, user_id: int, report_id: uuid.UUID) -> bytes:
    """Return one of the user's reports (another user's is not found)."""
    response = await peers.request(
        peers.jobs, "GET", f"/internal/users/{user_id}/reports/{report_id}"
    )
    return response.content


async def download_url(
    *, peers: Peers, downloads: DownloadSettings, user_id: int, report_id: uuid.UUID
) -> str:
    """Return a signed link to a finished report's PDF, or 409 while it is not done."""
    response = await peers.request(
        peers.jobs, "GET", f"/internal/users/{user_id}/reports/{report_id}"
    )
    report = read_json(peers.jobs, response, "status")
    if report["status"] != "done":
        raise Conflict(f"report is {report['status']}, not done yet")
    return signing.download_url(
        key=downloads.secret.get_secret_value().encode(),
        report_id=report_id,
        user_id=user_id,
        ttl_s=downloads.ttl_s,
    )


async def open_file(
    *,
    peers: Peers,
    downloads: DownloadSettings,
    report_id: uuid.UUID,
    user_id: int,
    expires: int,
    signature: str,
) -> httpx.Response:
    """Check a signed link, then open the PDF's stream at jobs (the caller relays and closes it).

    A forged, altered or expired link is 404, like a report that does not exist: the answer
    must not tell a guesser which ids are real.
    """
    key = downloads.secret.get_secret_value().encode()
    if not signing.is_valid(
        key=key, report_id=report_id, user_id=user_id, expires=expires, signature=signature
    ):
        raise NotFound("download link is invalid or expired")
    return await peers.stream(peers.jobs, f"/internal/users/{user_id}/reports/{report_id}/file")
