"""Reports: requested at jobs, own only, downloaded through signed and expiring links."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest
from core_api.reports.signing import sign
from core_api.settings import Settings

if TYPE_CHECKING:
    from conftest import PeerStub

Login = Callable[..., dict[str, str]]

REPORT_ID = uuid.UUID("0b9d3a52-52d5-4c39-9a4d-3c1d8e1f0a11")
OTHER_ID = uuid.UUID("7f0c1e0e-3c1b-4f7e-8d64-2f3b9a0c5d22")
PDF = b"%PDF-1.4\n" + b"0" * 20_000 + b"\n%%EOF\n"


def report(status: str, report_id: uuid.UUID = REPORT_ID) -> dict[str, object]:
    return {
        "id": str(report_id),
        "kind": "activity_pdf",
        "days": 7,
        "status": status,
        "created_at": "2025-01-02T00:00:00Z",
        "completed_at": None,
    }


@pytest.fixture
def done_report(peers: PeerStub) -> None:
    """User 7 owns REPORT_ID, finished, and jobs serves its PDF under user 7 only."""
    peers.on("jobs", "GET", rf"/internal/users/7/reports/{REPORT_ID}", report("done"))
    peers.on(
        "jobs",
        "GET",
        rf"/internal/users/7/reports/{REPORT_ID}/file",
        lambda _: httpx.Response(200, content=PDF, headers={"content-type": "application/pdf"}),
    )


async def download_link(client: httpx.AsyncClient, login: dict[str, str]) -> str:
    response = await client.get(f"/v1/reports/{REPORT_ID}/download", headers=login)
    assert response.status_code == 307
    return response.headers["location"]


def with_query(link: str, **changes: str) -> str:
    parts = urlsplit(link)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query.update(changes)
    return parts.path + "?" + "&".join(f"{k}={v}" for k, v in query.items())


async def test_a_report_request_is_passed_on_with_its_idempotency_key(
    client: httpx.AsyncClient, peers: PeerStub, login_as: Login
) -> None:
    accepted = {"id": str(REPORT_ID), "status": "queued"}
    peers.on("jobs", "POST", r"/internal/users/7/reports", accepted, status=202)

    response = await client.post(
        "/v1/reports",
        json={"kind": "activity_pdf", "days": 30},
        headers={**login_as(7), "Idempotency-Key": "abc-123"},
    )

    assert response.status_code == 202
    assert response.json() == accepted
    [call] = peers.called("jobs", "POST", r"/internal/users/7/reports")
    assert call.headers["idempotency-key"] == "abc-123"
    assert orjson.loads(call.content) == {"kind": "activity_pdf", "days": 30}


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "activity_pdf", "days": 0},
        {"kind": "activity_pdf", "days": 91},
        {"kind": "everything", "days": 7},
        {"kind": "activity_pdf", "days": 7, "user_id": 8},
    ],
    ids=["days-0", "days-91", "unknown-kind", "extra-field"],
)
async def test_a_bad_report_request_is_422(
    client: httpx.AsyncClient, peers: PeerStub, login_as: Login, bad: dict[str, object]
) -> None:
    response = await client.post("/v1/reports", json=bad, headers=login_as(7))

    assert response.status_code == 422
    assert peers.calls == []


async def test_reports_are_read_under_the_callers_own_id(
    client: httpx.AsyncClient, peers: PeerStub, login_as: Login
) -> None:
    peers.on("jobs", "GET", r"/internal/users/7/reports", {"items": [report("queued")]})
    missing = {"error": "not_found", "detail": "report not found"}
    peers.on("jobs", "GET", rf"/internal/users/7/reports/{OTHER_ID}", missing, status=404)

    listed = await client.get("/v1/reports", headers=login_as(7))
    others = await client.get(f"/v1/reports/{OTHER_ID}", headers=login_as(7))

    assert listed.json() == {"items": [report("queued")]}
    assert others.status_code == 404
    assert others.json() == missing


async def test_a_download_link_is_refused_with_409_until_the_report_is_done(
    client: httpx.AsyncClient, peers: PeerStub, login_as: Login
) -> None:
    peers.on("jobs", "GET", rf"/internal/users/7/reports/{REPORT_ID}", report("running"))

    response = await client.get(f"/v1/reports/{REPORT_ID}/download", headers=login_as(7))

    assert response.status_code == 409
    assert response.json()["error"] == "conflict"


@pytest.mark.usefixtures("done_report")
async def test_the_signed_link_streams_the_pdf_without_a_bearer_token(
    client: httpx.AsyncClient, peers: PeerStub, login_as: Login, settings: Settings
) -> None:
    link = await download_link(client, login_as(7))
    query = parse_qs(urlsplit(link).query)
    expires = int(query["expires"][0])

    response = await client.get(link)

    assert link.startswith(f"/v1/files/reports/{REPORT_ID}?")
    assert 0 < expires - time.time() <= settings.downloads.ttl_s
    assert response.status_code == 200
    assert response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        f"attachment; filename=report-{REPORT_ID}.pdf"
    )
    assert "no-store" in response.headers["cache-control"]


@pytest.mark.usefixtures("done_report")
@pytest.mark.parametrize(
    "tamper",
    [
        lambda link: with_query(link, signature="0" * 64),
        lambda link: with_query(link, signature="é"),
        lambda link: with_query(link, expires=str(int(time.time()) + 86_400)),
        lambda link: with_query(link, user_id="8"),
        lambda link: link.replace(str(REPORT_ID), str(OTHER_ID)),
    ],
    ids=["forged-signature", "non-ascii-signature", "extended", "other-user", "other-report"],
)
async def test_an_altered_link_is_404_and_never_reaches_jobs(
    client: httpx.AsyncClient,
    peers: PeerStub,
    login_as: Login,
    tamper: Callable[[str], str],
) -> None:
    link = await download_link(client, login_as(7))

    response = await client.get(tamper(link))

    assert response.status_code == 404
    assert response.json() == {
        "error": "not_found",
        "detail": "download link is invalid or expired",
    }
    assert peers.called("jobs", "GET", r".*/file") == []


@pytest.mark.usefixtures("done_report")
async def test_an_expired_link_is_404(
    client: httpx.AsyncClient, peers: PeerStub, settings: Settings
) -> None:
    expires = int(time.time()) - 1
    key = settings.downloads.secret.get_secret_value().encode()
    signature = sign(key=key, report_id=REPORT_ID, user_id=7, expires=expires)

    response = await client.get(
        f"/v1/files/reports/{REPORT_ID}",
        params={"user_id": 7, "expires": expires, "signature": signature},
    )

    assert response.status_code == 404
    assert peers.called("jobs", "GET", r".*/file") == []


async def test_a_file_jobs_cannot_serve_maps_to_the_error_shape(
    client: httpx.AsyncClient, peers: PeerStub, settings: Settings
) -> None:
    expires = int(time.time()) + 60
    key = settings.downloads.secret.get_secret_value().encode()
    signature = sign(key=key, report_id=REPORT_ID, user_id=7, expires=expires)
    peers.on("jobs", "GET", rf"/internal/users/7/reports/{REPORT_ID}/file", {}, status=503)

    response = await client.get(
        f"/v1/files/reports/{REPORT_ID}",
        params={"user_id": 7, "expires": expires, "signature": signature},
    )

    assert response.status_code == 503
    assert response.json()["error"] == "service_unavailable"
