"""Profile routes, the composed dashboard, public-profile caching and downstream failures."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import orjson
import pytest

if TYPE_CHECKING:
    from conftest import PeerStub

Login = Callable[..., dict[str, str]]

USER = {
    "id": 7,
    "email": "ada@example.com",
    "display_name": "Ada",
    "created_at": "2025-01-01T00:00:00Z",
}
EVENTS = [
    {
        "id": 100 - i,
        "kind": "login",
        "created_at": "2025-01-02T00:00:00Z",
        "actor": {"id": 7, "display_name": "Ada"},
    }
    for i in range(10)
]
REPORTS = [
    {
        "id": "0b9d3a52-52d5-4c39-9a4d-3c1d8e1f0a11",
        "kind": "activity_pdf",
        "days": 7,
        "status": "done",
        "created_at": "2025-01-02T00:00:00Z",
        "completed_at": "2025-01-02T00:00:05Z",
    }
]
ACTIVITY = {"user": USER, "recent_events": EVENTS, "events_7d": 12}
SUMMARY = {"reports_total": 3, "reports_pending": 1, "recent_reports": REPORTS}
PROFILE = {"id": 9, "display_name": "Grace", "bio": "COBOL", "avatar_url": None}


async def test_the_dashboard_composes_both_peers(
    client: httpx.AsyncClient, peers: PeerStub, login_as: Login
) -> None:
    peers.on("user", "GET", r"/internal/users/7/dashboard", ACTIVITY)
    peers.on("jobs", "GET", r"/internal/users/7/reports-summary", SUMMARY)

    response = await client.get("/v1/me/dashboard", headers=login_as(7))

    assert response.status_code == 200
    assert response.json() == {
        "user": USER,
        "recent_events": EVENTS,
        "stats": {"events_7d": 12, "reports_total": 3, "reports_pending": 1},
        "recent_reports": REPORTS,
    }
    assert response.headers["x-evidence-hops"] == "2"
    assert response.headers["x-evidence-hop-depth"] == "1"


async def test_the_dashboard_calls_its_peers_concurrently(
    client: httpx.AsyncClient, peers: PeerStub, login_as: Login
) -> None:
    # Each handler waits until the other has started: called one after the other, they would
    # never meet and the barrier would break instead.
    barrier = asyncio.Barrier(2)

    def meeting(body: dict[str, Any]) -> Callable[[httpx.Request], Any]:
        async def handler(_: httpx.Request) -> httpx.Response:
            await asyncio.wait_for(barrier.wait(), timeout=5)
            return httpx.Response(200, json=body)

        return handler

    peers.on("user", "GET", r"/internal/users/7/dashboard", meeting(ACTIVITY))
    peers.on("jobs", "GET", r"/internal/users/7/reports-summary", meeting(SUMMARY))

    response = await client.get("/v1/me/dashboard", headers=login_as(7))

    assert response.status_code == 200
    assert barrier.n_waiting == 0


def fail_with(error: type[httpx.TransportError]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error("simulated", request=request)

    return handler


@pytest.mark.parametrize(
    ("jobs_answer", "status", "code"),
    [
        (fail_with(httpx.ConnectError), 503, "service_unavailable"),
        (fail_with(httpx.ReadTimeout), 504, "gateway_timeout"),
        (lambda _: httpx.Response(500, text="Internal Server Error"), 502, "bad_gateway"),
        (lambda _: httpx.Response(200, json={"reports_total": 1}), 502, "bad_gateway"),
        (lambda _: httpx.Response(200, text="<html>"), 502, "bad_gateway"),
    ],
    ids=["peer-down", "peer-timeout", "peer-500", "peer-wrong-shape", "peer-not-json"],
)
async def test_a_failing_peer_fails_the_dashboard_with_the_error_shape(
    client: httpx.AsyncClient,
    peers: PeerStub,
    login_as: Login,
    jobs_answer: Callable[[httpx.Request], httpx.Response],
    status: int,
    code: str,
) -> None:
    peers.on("user", "GET", r"/internal/users/7/dashboard", ACTIVITY)
    peers.on("jobs", "GET", r"/internal/users/7/reports-summary", jobs_answer)

    response = await client.get("/v1/me/dashboard", headers=login_as(7))

    assert response.status_code == status
    assert response.json()["error"] == code
    assert set(response.json()) == {"error", "detail"}


async def test_a_failing_peer_cancels_the_other_call(
    client: httpx.AsyncClient, peers: PeerStub, login_as: Login
) -> None:
    cancelled = asyncio.Event()

    async def slow_user(_: httpx.Request) -> httpx.Response:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return httpx.Response(200, json=ACTIVITY)

    peers.on("user", "GET", r"/internal/users/7/dashboard", slow_user)
    peers.on("jobs", "GET", r"/internal/users/7/reports-summary", fail_with(httpx.ConnectError))

    response = await client.get("/v1/me/dashboard", headers=login_as(7))

    assert response.status_code == 503
    assert cancelled.is_set()


async def test_patch_me_forwards_only_the_fields_sent(
    client: httpx.AsyncClient, peers: PeerStub, login_as: Login
) -> None:
    peers.on("user", "PATCH", r"/internal/users/7/profile", {**USER, "bio": "hi"})

    response = await client.patch("/v1/me", json={"bio": "hi"}, headers=login_as(7))

    assert response.status_code == 200
    [call] = peers.called("user", "PATCH", r"/internal/users/7/profile")
    assert orjson.loads(call.content) == {"bio": "hi"}


@pytest.mark.parametrize(
    ("method", "path", "bad"),
    [
        ("PATCH", "/v1/me", {"bio": "hi", "email": "x@example.com"}),
        ("PATCH", "/v1/me", {"avatar_url": "javascript:alert(1)"}),
        ("PATCH", "/v1/me", {"display_name": None}),
        ("PUT", "/v1/me/prefs", {"theme": "neon"}),
        ("PUT", "/v1/me/prefs", {"theme": "dark", "is_admin": True}),
    ],
    ids=[
        "mass-assignment",
        "bad-avatar-url",
        "null-display-name",
        "bad-theme",
        "prefs-extra-field",
    ],
)
async def test_bad_profile_input_is_422_before_any_peer_call(
    client: httpx.AsyncClient,
    peers: PeerStub,
    login_as: Login,
    method: str,
    path: str,
    bad: dict[str, Any],
) -> None:
    response = await client.request(method, path, json=bad, headers=login_as(7))

    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    assert peers.calls == []


async def test_put_prefs_sends_the_whole_record(
    client: httpx.AsyncClient, peers: PeerStub, login_as: Login
) -> None:
    prefs = {"theme": "dark", "locale": "en", "email_notifications": False, "webhook_url": None}
    peers.on("user", "PUT", r"/internal/users/7/prefs", prefs)

    response = await client.put(
        "/v1/me/prefs", json={"theme": "dark", "email_notifications": False}, headers=login_as(7)
    )

    assert response.status_code == 200
    [call] = peers.called("user", "PUT", r"/internal/users/7/prefs")
    assert orjson.loads(call.content) == prefs


async def test_events_pass_limit_and_cursor_on(
    client: httpx.AsyncClient, peers: PeerStub, login_as: Login
) -> None:
    peers.on("user", "GET", r"/internal/users/7/events", {"items": [], "next_cursor": None})

    response = await client.get("/v1/me/events?limit=5&cursor=abc", headers=login_as(7))

    assert response.status_code == 200
    [call] = peers.called("user", "GET", r"/internal/users/7/events")
    assert dict(call.url.params) == {"limit": "5", "cursor": "abc"}


@pytest.mark.parametrize("limit", ["0", "101", "ten"])
async def test_an_event_page_size_out_of_range_is_422(
    client: httpx.AsyncClient, peers: PeerStub, login_as: Login, limit: str
) -> None:
    response = await client.get(f"/v1/me/events?limit={limit}", headers=login_as(7))

    assert response.status_code == 422
    assert peers.calls == []


async def test_a_public_profile_has_a_weak_etag_and_answers_304_when_it_matches(
    client: httpx.AsyncClient, peers: PeerStub
) -> None:
    peers.on("user", "GET", r"/internal/users/9/public", PROFILE)

    first = await client.get("/v1/users/9")
    etag = first.headers["etag"]
    again = await client.get("/v1/users/9", headers={"If-None-Match": etag})
    stale = await client.get("/v1/users/9", headers={"If-None-Match": 'W/"something-else"'})

    assert first.status_code == 200
    assert first.json() == PROFILE
    assert etag.startswith('W/"')
    assert first.headers["cache-control"] == "public, max-age=60"
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert stale.status_code == 200


async def test_a_changed_public_profile_gets_a_new_etag(
    client: httpx.AsyncClient, peers: PeerStub
) -> None:
    bios = iter(["COBOL", "compilers"])
    peers.on(
        "user",
        "GET",
        r"/internal/users/9/public",
        lambda _: httpx.Response(200, json={**PROFILE, "bio": next(bios)}),
    )

    first = await client.get("/v1/users/9")
    second = await client.get("/v1/users/9", headers={"If-None-Match": first.headers["etag"]})

    assert second.status_code == 200
    assert second.headers["etag"] != first.headers["etag"]


async def test_an_unknown_user_is_404_in_the_error_shape(
    client: httpx.AsyncClient, peers: PeerStub
) -> None:
    missing = {"error": "not_found", "detail": "user not found"}
    peers.on("user", "GET", r"/internal/users/404/public", missing, status=404)

    response = await client.get("/v1/users/404")

    assert response.status_code == 404
    assert response.json() == missing


async def test_responses_carry_the_security_headers(
    client: httpx.AsyncClient, peers: PeerStub, login_as: Login
) -> None:
    peers.on("user", "GET", r"/internal/users/7/me", USER)

    authenticated = await client.get("/v1/me", headers=login_as(7))
    anonymous = await client.get("/healthz")

    for response in (authenticated, anonymous):
        assert response.headers["x-content-type-options"] == "nosniff"
    assert authenticated.headers["cache-control"] == "no-store"
    assert "cache-control" not in anonymous.headers


async def test_cors_allows_only_the_configured_origins(client: httpx.AsyncClient) -> None:
    def preflight(origin: str) -> Any:
        headers = {"Origin": origin, "Access-Control-Request-Method": "GET"}
        return client.options("/v1/me", headers=headers)

    allowed = await preflight("https://app.example")
    refused = await preflight("https://evil.example")

    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in refused.headers
