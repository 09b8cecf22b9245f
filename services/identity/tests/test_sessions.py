"""Login, refresh rotation with reuse detection, logout and the revocation fallback."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from service_common.revocation import KEY_PREFIX
from service_common.tokens import TokenCodec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

ACCESS_TTL_S = 120  # as set by conftest's settings fixture
EMAIL = "login@example.com"
PASSWORD = "correct horse battery"


@pytest.fixture
async def account_id(client: httpx.AsyncClient) -> int:
    response = await client.post("/internal/accounts", json={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 201
    return int(response.json()["id"])


async def login(client: httpx.AsyncClient, email: str = EMAIL) -> dict[str, Any]:
    response = await client.post("/internal/sessions", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_login_issues_a_token_pair_bound_to_a_new_session(
    client: httpx.AsyncClient, account_id: int, tokens: TokenCodec, connection: AsyncConnection
) -> None:
    pair = await login(client, email="LOGIN@example.com")

    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == ACCESS_TTL_S
    assert pair["user_id"] == account_id
    access = tokens.verify(pair["access_token"], expected_type="access")
    refresh = tokens.verify(pair["refresh_token"], expected_type="refresh")
    assert access.user_id == refresh.user_id == account_id
    assert access.session_id == refresh.session_id
    row = (
        await connection.execute(
            text(
                "SELECT user_id, refresh_jti, expires_at > now()"
                " FROM identity.sessions WHERE id = :id"
            ),
            {"id": uuid.UUID(access.session_id)},
        )
    ).one()
    assert row[0] == account_id
    assert row[1].hex == refresh.token_id
    assert row[2] is True


@pytest.mark.parametrize(
    "body",
    [
        {"email": EMAIL, "password": "wrong password"},
        {"email": "nobody@example.com", "password": PASSWORD},
    ],
    ids=["wrong-password", "unknown-email"],
)
async def test_bad_credentials_get_one_indistinct_401(
    client: httpx.AsyncClient, account_id: int, body: dict[str, str]
) -> None:
    response = await client.post("/internal/sessions", json=body)

    assert response.status_code == 401
    assert response.json() == {"error": "unauthorized", "detail": "invalid email or password"}


@pytest.mark.parametrize(
    "body",
    [
        {"email": EMAIL},
        {"email": EMAIL, "password": ""},
        {"email": EMAIL, "password": PASSWORD, "remember": True},
    ],
    ids=["missing-password", "empty-password", "extra-field"],
)
async def test_invalid_login_bodies_are_422(
    client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    response = await client.post("/internal/sessions", json=body)

    assert response.status_code == 422


async def test_refresh_rotates_the_pair_and_the_new_token_refreshes_again(
    client: httpx.AsyncClient, account_id: int, tokens: TokenCodec
) -> None:
    first = await login(client)

    second = await client.post(
        "/internal/sessions/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["user_id"] == account_id
    old = tokens.verify(first["refresh_token"], expected_type="refresh")
    new = tokens.verify(rotated["refresh_token"], expected_type="refresh")
    assert new.session_id == old.session_id and new.token_id != old.token_id

    third = await client.post(
        "/internal/sessions/refresh", json={"refresh_token": rotated["refresh_token"]}
    )
    assert third.status_code == 200


async def test_reused_refresh_token_revokes_the_session(
    client: httpx.AsyncClient, account_id: int, tokens: TokenCodec, state: dict[str, Any]
) -> None:
    first = await login(client)
    sid = tokens.verify(first["access_token"], expected_type="access").session_id
    rotated = await client.post(
        "/internal/sessions/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert rotated.status_code == 200

    reuse = await client.post(
        "/internal/sessions/refresh", json={"refresh_token": first["refresh_token"]}
    )

    assert reuse.status_code == 401
    assert "reused" in reuse.json()["detail"]
    assert (await client.get(f"/internal/sessions/{sid}")).json() == {"active": False}
    ttl = await state["redis"].ttl(KEY_PREFIX + sid)
    assert 0 < ttl <= ACCESS_TTL_S
    # The legitimate holder's newest token dies with the session too.
    newest = await client.post(
        "/internal/sessions/refresh", json={"refresh_token": rotated.json()["refresh_token"]}
    )
    assert newest.status_code == 401


@pytest.mark.parametrize("kind", ["access-token", "garbage", "other-key"])
async def test_refresh_refuses_tokens_that_are_not_our_refresh_tokens(
    client: httpx.AsyncClient, account_id: int, kind: str
) -> None:
    pair = await login(client)
    foreign = TokenCodec("another-key-that-is-32-bytes-or-more!", issuer="x", audience="y")
    token = {
        "access-token": pair["access_token"],
        "garbage": "not.a.jwt",
        "other-key": foreign.issue(
            user_id=pair["user_id"], session_id=str(uuid.uuid4()), token_type="refresh", ttl_s=60
        )[0],
    }[kind]

    response = await client.post("/internal/sessions/refresh", json={"refresh_token": token})

    assert response.status_code == 401


async def test_refresh_body_with_extra_fields_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/internal/sessions/refresh", json={"refresh_token": "x", "scope": "admin"}
    )

    assert response.status_code == 422


async def test_revoke_is_idempotent_and_refresh_after_it_fails(
    client: httpx.AsyncClient, account_id: int, tokens: TokenCodec, state: dict[str, Any]
) -> None:
    pair = await login(client)
    sid = tokens.verify(pair["access_token"], expected_type="access").session_id
    assert (await client.get(f"/internal/sessions/{sid}")).json() == {"active": True}

    first = await client.post(f"/internal/sessions/{sid}/revoke")
    second = await client.post(f"/internal/sessions/{sid}/revoke")

    assert first.status_code == second.status_code == 204
    assert (await client.get(f"/internal/sessions/{sid}")).json() == {"active": False}
    assert await state["redis"].exists(KEY_PREFIX + sid)
    refresh = await client.post(
        "/internal/sessions/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert refresh.status_code == 401


async def test_unknown_sessions_are_404_to_revoke_and_inactive_to_check(
    client: httpx.AsyncClient,
) -> None:
    sid = uuid.uuid4()

    assert (await client.post(f"/internal/sessions/{sid}/revoke")).status_code == 404
    assert (await client.get(f"/internal/sessions/{sid}")).json() == {"active": False}


async def test_malformed_session_ids_are_422(client: httpx.AsyncClient) -> None:
    assert (await client.post("/internal/sessions/not-a-uuid/revoke")).status_code == 422
    assert (await client.get("/internal/sessions/not-a-uuid")).status_code == 422


async def test_concurrent_refreshes_of_one_token_cannot_both_win(
    committed_client: httpx.AsyncClient,
) -> None:
    email = f"race-{uuid.uuid4().hex[:8]}@example.com"
    created = await committed_client.post(
        "/internal/accounts", json={"email": email, "password": PASSWORD}
    )
    try:
        pair = await login(committed_client, email=email)
        body = {"refresh_token": pair["refresh_token"]}

        results = await asyncio.gather(
            *(committed_client.post("/internal/sessions/refresh", json=body) for _ in range(4))
        )

        assert sorted(r.status_code for r in results) == [200, 401, 401, 401]
        # The loser presented a token that had just been rotated away: treated as reuse.
        winner = next(r for r in results if r.status_code == 200).json()
        after = await committed_client.post(
            "/internal/sessions/refresh", json={"refresh_token": winner["refresh_token"]}
        )
        assert after.status_code == 401
    finally:
        await committed_client.delete(f"/internal/accounts/{created.json()['id']}")
