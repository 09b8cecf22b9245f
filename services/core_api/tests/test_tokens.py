"""Bearer tokens are verified locally; a revoked session is refused, Redis or no Redis."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import jwt
import orjson
import pytest
from core_api.settings import Settings
from redis.asyncio import Redis
from service_common.revocation import mark_revoked
from service_common.tokens import TokenCodec

if TYPE_CHECKING:
    from conftest import PeerStub

ME = {
    "id": 7,
    "email": "ada@example.com",
    "display_name": "Ada",
    "created_at": "2025-01-01T00:00:00Z",
    "bio": "",
    "avatar_url": None,
    "prefs": {"theme": "system", "locale": "en", "email_notifications": True, "webhook_url": None},
}


@pytest.fixture(autouse=True)
def user_me(peers: PeerStub) -> None:
    peers.on("user", "GET", r"/internal/users/7/me", ME)


def claims(settings: Settings, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    payload = {
        "sub": "7",
        "sid": str(uuid.uuid4()),
        "jti": uuid.uuid4().hex,
        "typ": "access",
        "iss": settings.jwt.issuer,
        "aud": settings.jwt.audience,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
    }
    payload.update(overrides)
    return payload


def signed(settings: Settings, **overrides: Any) -> str:
    key = settings.jwt.secret.get_secret_value()
    return jwt.encode(claims(settings, **overrides), key, algorithm="HS256")


def unsigned(settings: Settings) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(data)).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims(settings))}."


async def get_me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})


async def test_a_valid_access_token_reaches_the_user_service(
    client: httpx.AsyncClient, settings: Settings, peers: PeerStub
) -> None:
    response = await get_me(client, signed(settings))

    assert response.status_code == 200
    assert response.json() == ME
    assert response.headers["cache-control"] == "no-store"
    assert len(peers.called("user", "GET", r"/internal/users/7/me")) == 1


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(unsigned, id="alg-none"),
        pytest.param(
            lambda s: jwt.encode(claims(s), "another-key-of-at-least-32-bytes!!", "HS256"),
            id="wrong-key",
        ),
        pytest.param(lambda s: signed(s, exp=int(time.time()) - 60), id="expired"),
        pytest.param(lambda s: signed(s, nbf=int(time.time()) + 120), id="not-yet-valid"),
        pytest.param(lambda s: signed(s, aud="someone-else"), id="wrong-audience"),
        pytest.param(lambda s: signed(s, iss="someone-else"), id="wrong-issuer"),
        pytest.param(lambda s: signed(s, typ="refresh"), id="refresh-as-access"),
        pytest.param(lambda s: "not.a.jwt", id="garbage"),
    ],
)
async def test_a_bad_token_is_401_and_no_peer_is_called(
    client: httpx.AsyncClient,
    settings: Settings,
    peers: PeerStub,
    forge: Callable[[Settings], str],
) -> None:
    response = await get_me(client, forge(settings))

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert peers.calls == []


async def test_a_missing_or_non_bearer_authorization_is_401(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/me")).status_code == 401
    basic = await client.get("/v1/me", headers={"Authorization": "Basic YTpi"})
    assert basic.status_code == 401
    assert basic.json()["error"] == "unauthorized"


async def test_a_token_of_a_revoked_session_is_401(
    client: httpx.AsyncClient, state: dict[str, Any], tokens: TokenCodec, peers: PeerStub
) -> None:
    session_id = str(uuid.uuid4())
    token, issued = tokens.issue(user_id=7, session_id=session_id, token_type="access", ttl_s=300)
    redis: Redis = state["redis"]
    await mark_revoked(redis, session_id, until_epoch_s=issued.expires_at)

    response = await get_me(client, token)

    assert response.status_code == 401
    assert response.json() == {"error": "unauthorized", "detail": "session revoked"}
    assert peers.calls == []


async def test_logout_revokes_the_session_so_the_same_token_is_then_401(
    client: httpx.AsyncClient, state: dict[str, Any], tokens: TokenCodec, peers: PeerStub
) -> None:
    session_id = str(uuid.uuid4())
    token, issued = tokens.issue(user_id=7, session_id=session_id, token_type="access", ttl_s=300)

    async def revoke(request: httpx.Request) -> httpx.Response:
        # What identity does on logout: the DB row, and the key every verifier reads.
        await mark_revoked(state["redis"], session_id, until_epoch_s=issued.expires_at)
        return httpx.Response(204)

    peers.on("identity", "POST", rf"/internal/sessions/{session_id}/revoke", revoke)
    assert (await get_me(client, token)).status_code == 200

    logout = await client.post("/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})

    assert logout.status_code == 204
    assert (await get_me(client, token)).status_code == 401


@pytest.mark.usefixtures("redis_down")
@pytest.mark.parametrize(("active", "status"), [(True, 200), (False, 401)])
async def test_with_redis_down_identity_decides_whether_the_session_is_active(
    client: httpx.AsyncClient, tokens: TokenCodec, peers: PeerStub, active: bool, status: int
) -> None:
    session_id = str(uuid.uuid4())
    token, _ = tokens.issue(user_id=7, session_id=session_id, token_type="access", ttl_s=300)
    peers.on("identity", "GET", rf"/internal/sessions/{session_id}", {"active": active})

    response = await get_me(client, token)

    assert response.status_code == status
    assert len(peers.called("identity", "GET", rf"/internal/sessions/{session_id}")) == 1


@pytest.mark.usefixtures("redis_down")
async def test_with_redis_and_identity_down_the_token_is_not_let_through(
    client: httpx.AsyncClient, login_as: Callable[..., dict[str, str]], peers: PeerStub
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    peers.on("identity", "GET", r"/internal/sessions/.+", refuse)

    response = await client.get("/v1/me", headers=login_as())

    assert response.status_code == 503
    assert response.json()["error"] == "service_unavailable"
    assert peers.called("user", "GET", r"/internal/users/7/me") == []
