"""Sign-up with compensation, login behind the limiter, token rotation."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

import httpx
import orjson
import pytest
from core_api.security import client_ip

if TYPE_CHECKING:
    from conftest import PeerStub

ACCOUNT = {"id": 42, "email": "ada@example.com", "created_at": "2025-01-01T00:00:00Z"}
SIGN_UP = {"email": "ada@example.com", "password": "correct horse", "display_name": "Ada"}
PAIR = {
    "access_token": "a.b.c",
    "refresh_token": "d.e.f",
    "token_type": "bearer",
    "expires_in": 900,
    "user_id": 42,
}
WRONG = {"error": "unauthorized", "detail": "wrong email or password"}


def body(request: httpx.Request) -> Any:
    return orjson.loads(request.content)


async def test_register_creates_the_account_then_the_profile(
    client: httpx.AsyncClient, peers: PeerStub
) -> None:
    peers.on("identity", "POST", r"/internal/accounts", ACCOUNT, status=201)
    peers.on("user", "POST", r"/internal/users", {**ACCOUNT, "display_name": "Ada"}, status=201)

    response = await client.post("/v1/auth/register", json=SIGN_UP)

    assert response.status_code == 201
    assert response.json() == {**ACCOUNT, "display_name": "Ada"}
    [account_call] = peers.called("identity", "POST", r"/internal/accounts")
    assert body(account_call) == {"email": "ada@example.com", "password": "correct horse"}
    [profile_call] = peers.called("user", "POST", r"/internal/users")
    assert body(profile_call) == {"id": 42, "email": "ada@example.com", "display_name": "Ada"}


async def test_register_deletes_the_account_when_the_profile_fails(
    client: httpx.AsyncClient, peers: PeerStub
) -> None:
    peers.on("identity", "POST", r"/internal/accounts", ACCOUNT, status=201)
    peers.on("user", "POST", r"/internal/users", {"error": "boom", "detail": "boom"}, status=500)
    peers.on("identity", "DELETE", r"/internal/accounts/42", lambda _: httpx.Response(204))

    response = await client.post("/v1/auth/register", json=SIGN_UP)

    assert response.status_code == 502
    assert response.json() == {"error": "bad_gateway", "detail": "user failed (500)"}
    assert len(peers.called("identity", "DELETE", r"/internal/accounts/42")) == 1


async def test_register_with_a_taken_email_is_409_and_touches_no_profile(
    client: httpx.AsyncClient, peers: PeerStub
) -> None:
    taken = {"error": "conflict", "detail": "email already registered"}
    peers.on("identity", "POST", r"/internal/accounts", taken, status=409)

    response = await client.post("/v1/auth/register", json=SIGN_UP)

    assert response.status_code == 409
    assert response.json() == taken
    assert peers.called("user", "POST", r"/internal/users") == []


@pytest.mark.parametrize(
    "bad",
    [
        {**SIGN_UP, "is_admin": True},
        {**SIGN_UP, "email": "not-an-email"},
        {**SIGN_UP, "password": "short"},
        {**SIGN_UP, "display_name": "   "},
        {"email": "ada@example.com", "password": "correct horse"},
    ],
    ids=["extra-field", "bad-email", "short-password", "blank-name", "missing-name"],
)
async def test_register_refuses_bad_input_with_422_before_any_peer_call(
    client: httpx.AsyncClient, peers: PeerStub, bad: dict[str, Any]
) -> None:
    response = await client.post("/v1/auth/register", json=bad)

    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    assert peers.calls == []


async def test_a_body_over_the_cap_is_413(client: httpx.AsyncClient, peers: PeerStub) -> None:
    response = await client.post("/v1/auth/register", json={**SIGN_UP, "display_name": "x" * 5000})

    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert peers.calls == []


async def test_login_returns_the_pair_and_records_a_login_event_after_responding(
    client: httpx.AsyncClient, peers: PeerStub
) -> None:
    peers.on("identity", "POST", r"/internal/sessions", PAIR)
    peers.on("user", "POST", r"/internal/users/42/events", {"id": 1}, status=201)

    response = await client.post(
        "/v1/auth/login", json={"email": "ada@example.com", "password": "correct horse"}
    )

    assert response.status_code == 200
    assert response.json() == {k: v for k, v in PAIR.items() if k != "user_id"}
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["ratelimit-limit"] == "5"
    [event] = peers.called("user", "POST", r"/internal/users/42/events")
    assert body(event) == {"kind": "login", "actor_id": 42, "payload": {"ip": "203.0.113.7"}}


async def test_a_failing_login_event_does_not_fail_the_login(
    client: httpx.AsyncClient, peers: PeerStub
) -> None:
    peers.on("identity", "POST", r"/internal/sessions", PAIR)
    peers.on("user", "POST", r"/internal/users/42/events", {"error": "x", "detail": "x"}, 500)

    response = await client.post(
        "/v1/auth/login", json={"email": "ada@example.com", "password": "x"}
    )

    assert response.status_code == 200


async def test_the_sixth_failed_login_in_a_minute_is_429_with_retry_after(
    client: httpx.AsyncClient, peers: PeerStub
) -> None:
    peers.on("identity", "POST", r"/internal/sessions", WRONG, status=401)
    attempt = {"email": "ada@example.com", "password": "guess"}

    statuses = [(await client.post("/v1/auth/login", json=attempt)).status_code for _ in range(5)]
    limited = await client.post("/v1/auth/login", json=attempt)

    assert statuses == [401] * 5
    assert limited.status_code == 429
    assert limited.json()["error"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.headers["ratelimit-remaining"] == "0"
    assert len(peers.called("identity", "POST", r"/internal/sessions")) == 5


async def test_the_account_limit_counts_an_email_however_it_is_capitalised(
    client: httpx.AsyncClient, peers: PeerStub
) -> None:
    peers.on("identity", "POST", r"/internal/sessions", WRONG, status=401)
    for _ in range(5):
        await client.post("/v1/auth/login", json={"email": "ada@example.com", "password": "x"})

    response = await client.post(
        "/v1/auth/login", json={"email": "ADA@example.com", "password": "x"}
    )

    assert response.status_code == 429


async def test_a_successful_login_clears_the_failed_attempts_of_that_account(
    client: httpx.AsyncClient, peers: PeerStub
) -> None:
    outcomes = iter([WRONG] * 4 + [PAIR] + [WRONG] * 5)

    def identity(_: httpx.Request) -> httpx.Response:
        outcome = next(outcomes)
        return httpx.Response(401 if outcome is WRONG else 200, json=outcome)

    peers.on("identity", "POST", r"/internal/sessions", identity)
    peers.on("user", "POST", r"/internal/users/42/events", {"id": 1}, status=201)
    attempt = {"email": "ada@example.com", "password": "x"}

    statuses = [(await client.post("/v1/auth/login", json=attempt)).status_code for _ in range(10)]

    assert statuses == [401] * 4 + [200] + [401] * 5


async def test_one_address_is_limited_across_accounts(
    client: httpx.AsyncClient, peers: PeerStub
) -> None:
    peers.on("identity", "POST", r"/internal/sessions", WRONG, status=401)

    statuses = [
        (
            await client.post(
                "/v1/auth/login", json={"email": f"u{i}@example.com", "password": "x"}
            )
        ).status_code
        for i in range(21)
    ]

    assert statuses == [401] * 20 + [429]


async def test_x_forwarded_for_from_an_untrusted_peer_does_not_dodge_the_limiter(
    client: httpx.AsyncClient, peers: PeerStub
) -> None:
    peers.on("identity", "POST", r"/internal/sessions", WRONG, status=401)
    attempt = {"email": "ada@example.com", "password": "x"}

    statuses = [
        (
            await client.post(
                "/v1/auth/login", json=attempt, headers={"X-Forwarded-For": f"198.51.100.{i}"}
            )
        ).status_code
        for i in range(6)
    ]

    assert statuses == [401] * 5 + [429]


@pytest.mark.usefixtures("redis_down")
async def test_login_fails_closed_with_503_when_the_limiter_cannot_count(
    client: httpx.AsyncClient, peers: PeerStub
) -> None:
    response = await client.post(
        "/v1/auth/login", json={"email": "ada@example.com", "password": "x"}
    )

    assert response.status_code == 503
    assert response.json()["error"] == "service_unavailable"
    assert "retry-after" in response.headers
    assert peers.calls == []


async def test_refresh_returns_the_rotated_pair_and_passes_a_reuse_401_on(
    client: httpx.AsyncClient, peers: PeerStub
) -> None:
    answers = iter([(200, PAIR), (401, {"error": "unauthorized", "detail": "token reused"})])

    def identity(_: httpx.Request) -> httpx.Response:
        status, answer = next(answers)
        return httpx.Response(status, json=answer)

    peers.on("identity", "POST", r"/internal/sessions/refresh", identity)

    first = await client.post("/v1/auth/refresh", json={"refresh_token": "d.e.f"})
    reused = await client.post("/v1/auth/refresh", json={"refresh_token": "d.e.f"})

    assert first.status_code == 200
    assert first.json()["access_token"] == "a.b.c"
    assert "user_id" not in first.json()
    assert reused.status_code == 401
    assert reused.json() == {"error": "unauthorized", "detail": "token reused"}


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        ("203.0.113.7", "198.51.100.1", "203.0.113.7"),  # not a proxy: the header is the caller's
        ("10.0.0.2", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.2", "198.51.100.9, 198.51.100.1, 10.0.0.3", "198.51.100.1"),  # spoofed prefix
        ("10.0.0.2", None, "10.0.0.2"),
        ("10.0.0.2", "garbage, 10.0.0.3", "garbage"),
    ],
)
def test_the_client_address_comes_from_x_forwarded_for_only_through_trusted_proxies(
    peer: str, forwarded_for: str | None, expected: str
) -> None:
    trusted = [ipaddress.ip_network("10.0.0.0/8")]

    assert client_ip(peer=peer, forwarded_for=forwarded_for, trusted_proxies=trusted) == expected
