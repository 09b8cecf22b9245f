"""POST/DELETE /internal/accounts against real PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

PASSWORD = "correct horse battery"


async def test_create_account_returns_201_with_lowercased_email(
    client: httpx.AsyncClient, connection: AsyncConnection
) -> None:
    response = await client.post(
        "/internal/accounts", json={"email": "Ada.Lovelace@Example.COM", "password": PASSWORD}
    )

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "email", "created_at"}
    assert body["email"] == "ada.lovelace@example.com"
    stored = await connection.scalar(
        text("SELECT password_hash FROM identity.accounts WHERE id = :id"), {"id": body["id"]}
    )
    assert stored.startswith("$argon2") and PASSWORD not in stored


async def test_account_of_previous_test_was_rolled_back(
    client: httpx.AsyncClient, connection: AsyncConnection
) -> None:
    count = await connection.scalar(
        text("SELECT count(*) FROM identity.accounts WHERE email = 'ada.lovelace@example.com'")
    )
    assert count == 0
    response = await client.post(
        "/internal/accounts", json={"email": "ada.lovelace@example.com", "password": PASSWORD}
    )
    assert response.status_code == 201


async def test_taken_email_is_409_whatever_its_case(client: httpx.AsyncClient) -> None:
    first = await client.post(
        "/internal/accounts", json={"email": "grace@example.com", "password": PASSWORD}
    )
    again = await client.post(
        "/internal/accounts", json={"email": "GRACE@example.com", "password": "another password"}
    )

    assert first.status_code == 201
    assert again.status_code == 409
    assert again.json() == {"error": "conflict", "detail": "email already registered"}


async def test_conflict_leaves_the_transaction_usable_for_the_next_request(
    client: httpx.AsyncClient,
) -> None:
    body = {"email": "twice@example.com", "password": PASSWORD}
    await client.post("/internal/accounts", json=body)
    assert (await client.post("/internal/accounts", json=body)).status_code == 409

    other = await client.post(
        "/internal/accounts", json={"email": "third@example.com", "password": PASSWORD}
    )
    assert other.status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "password": PASSWORD},
        {"email": "a@example.com", "password": "short"},
        {"email": "a@example.com", "password": "x" * 129},
        {"email": ("a" * 64 + ".") * 3 + "@" + "b" * 60 + ".com", "password": PASSWORD},
        {"email": "a@example.com"},
        {"email": "a@example.com", "password": PASSWORD, "is_admin": True},
    ],
    ids=["bad-email", "short-password", "long-password", "long-email", "missing", "extra-field"],
)
async def test_invalid_account_bodies_are_422(
    client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    response = await client.post("/internal/accounts", json=body)

    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


async def test_delete_account_removes_it_and_its_sessions(
    client: httpx.AsyncClient, connection: AsyncConnection
) -> None:
    created = await client.post(
        "/internal/accounts", json={"email": "gone@example.com", "password": PASSWORD}
    )
    login = await client.post(
        "/internal/sessions", json={"email": "gone@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200

    response = await client.delete(f"/internal/accounts/{created.json()['id']}")

    assert response.status_code == 204
    sessions = await connection.scalar(
        text("SELECT count(*) FROM identity.sessions WHERE user_id = :id"),
        {"id": created.json()["id"]},
    )
    assert sessions == 0
    again = await client.post(
        "/internal/sessions", json={"email": "gone@example.com", "password": PASSWORD}
    )
    assert again.status_code == 401


async def test_deleting_an_unknown_account_is_idempotent(client: httpx.AsyncClient) -> None:
    response = await client.delete("/internal/accounts/987654321")

    assert response.status_code == 204


@pytest.mark.parametrize("account_id", ["0", "-3", str(2**63), "abc"])
async def test_delete_with_an_invalid_id_is_422(client: httpx.AsyncClient, account_id: str) -> None:
    response = await client.delete(f"/internal/accounts/{account_id}")

    assert response.status_code == 422


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert (await client.get("/metrics")).status_code == 200
