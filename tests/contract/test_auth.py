"""Registration, login, token rotation with reuse detection, logout and login rate limiting."""

from __future__ import annotations

import httpx
import pytest

from .conftest import PASSWORD, Account, assert_error, login, register, unique_email

pytestmark = pytest.mark.slow


def test_register_returns_the_user(client: httpx.Client) -> None:
    email = unique_email("reg")
    body = {"email": email, "password": PASSWORD, "display_name": "Reg Ister"}
    response = client.post("/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    user = response.json()
    assert {"id", "email", "display_name", "created_at"} <= set(user)
    assert user["email"] == email and user["display_name"] == "Reg Ister"
    assert "password" not in user and "password_hash" not in user


def test_register_twice_is_a_conflict(client: httpx.Client, alice: Account) -> None:
    body = {"email": alice.email, "password": PASSWORD, "display_name": "Someone Else"}
    assert_error(client.post("/v1/auth/register", json=body), 409, "conflict")


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "password": PASSWORD, "display_name": "X"},
        {"email": "short@example.com", "password": "short", "display_name": "X"},
        {"email": "noname@example.com", "password": PASSWORD, "display_name": ""},
        {"email": "missing@example.com", "password": PASSWORD},
        {"email": "extra@example.com", "password": PASSWORD, "display_name": "X", "admin": True},
    ],
    ids=["bad-email", "short-password", "empty-name", "missing-field", "extra-field"],
)
def test_register_rejects_invalid_input(client: httpx.Client, body: dict[str, object]) -> None:
    assert_error(client.post("/v1/auth/register", json=body), 422, "validation_error")


def test_login_refresh_rotation_and_reuse_revokes_the_session(client: httpx.Client) -> None:
    account = login(client, register(client, "carol"))
    first = account.tokens
    assert first["token_type"].lower() == "bearer"
    assert isinstance(first["expires_in"], int) and first["expires_in"] > 0
    assert client.get("/v1/me", headers=account.headers).status_code == 200

    rotated = client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    headers = {"Authorization": f"Bearer {second['access_token']}"}
    assert client.get("/v1/me", headers=headers).status_code == 200

    # Presenting the already-rotated refresh token again is reuse: the whole session ends.
    reused = client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert_error(reused, 401, "unauthorized")
    assert_error(client.get("/v1/me", headers=headers), 401, "unauthorized")
    again = client.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert_error(again, 401, "unauthorized")


def test_refresh_rejects_garbage(client: httpx.Client) -> None:
    response = client.post("/v1/auth/refresh", json={"refresh_token": "not.a.token"})
    assert_error(response, 401, "unauthorized")


def test_logout_ends_the_session(client: httpx.Client) -> None:
    account = login(client, register(client, "dan"))
    assert client.get("/v1/me", headers=account.headers).status_code == 200
    response = client.post("/v1/auth/logout", headers=account.headers)
    assert response.status_code == 204, response.text
    assert_error(client.get("/v1/me", headers=account.headers), 401, "unauthorized")


def test_wrong_password_is_unauthorized(client: httpx.Client, alice: Account) -> None:
    response = client.post("/v1/auth/login", json={"email": alice.email, "password": "wrong-pw-1"})
    assert_error(response, 401, "unauthorized")


def test_login_with_invalid_body_is_422(client: httpx.Client) -> None:
    assert_error(client.post("/v1/auth/login", json={"email": "x@example.com"}), 422)


def test_repeated_failed_logins_are_rate_limited(client: httpx.Client) -> None:
    # Both layouts allow 5 attempts a minute per IP and email (and 20 per IP).
    body = {"email": unique_email("mallory"), "password": "guess-number-n"}
    statuses = []
    for _ in range(6):
        response = client.post("/v1/auth/login", json=body)
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
    assert statuses[:-1] == [401] * (len(statuses) - 1), statuses
    assert_error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer not-a-jwt", "Basic dXNlcjpwYXNz"],
    ids=["none", "garbage", "basic"],
)
def test_protected_routes_need_a_valid_token(
    client: httpx.Client, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    for path in ("/v1/me", "/v1/me/dashboard", "/v1/me/events", "/v1/reports"):
        assert_error(client.get(path, headers=headers), 401, "unauthorized")
