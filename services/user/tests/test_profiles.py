"""Profiles and prefs: creation, /me, partial updates, prefs, public profiles and their caches."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

CreateUser = Any  # conftest's factory fixture
STATEMENTS = "x-evidence-db-statements"
PREFS = {"theme": "dark", "locale": "fr-CA", "email_notifications": False, "webhook_url": None}


def statements(response: httpx.Response) -> int:
    return int(response.headers[STATEMENTS])


async def test_create_user_returns_profile_with_default_prefs(
    client: httpx.AsyncClient, connection: AsyncConnection
) -> None:
    response = await client.post(
        "/internal/users",
        json={"id": 4242, "email": "Ada@Example.com", "display_name": "  Ada Lovelace  "},
    )

    assert response.status_code == 201
    body = response.json()
    assert body["id"] == 4242
    assert body["email"] == "ada@example.com"
    assert body["display_name"] == "Ada Lovelace"
    assert body["bio"] == "" and body["avatar_url"] is None
    assert body["prefs"] == {
        "theme": "system",
        "locale": "en",
        "email_notifications": True,
        "webhook_url": None,
    }
    prefs = await connection.scalar(text("SELECT count(*) FROM users.prefs WHERE user_id = 4242"))
    assert prefs == 1


async def test_user_of_previous_test_was_rolled_back(connection: AsyncConnection) -> None:
    count = await connection.scalar(
        text("SELECT count(*) FROM users.profiles WHERE user_id = 4242")
    )

    assert count == 0


async def test_creating_an_existing_id_is_409_and_writes_nothing(
    client: httpx.AsyncClient, create_user: CreateUser
) -> None:
    user_id = await create_user("First")

    response = await client.post(
        "/internal/users",
        json={"id": user_id, "email": "other@example.com", "display_name": "Second"},
    )

    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    me = await client.get(f"/internal/users/{user_id}/me")
    assert me.json()["display_name"] == "First"


@pytest.mark.parametrize(
    "body",
    [
        {"id": 1, "email": "a@example.com", "display_name": "   "},
        {"id": 1, "email": "a@example.com", "display_name": "x" * 81},
        {"id": 0, "email": "a@example.com", "display_name": "Ada"},
        {"id": 2**63, "email": "a@example.com", "display_name": "Ada"},
        {"id": 1, "email": "nope", "display_name": "Ada"},
        {"id": 1, "email": "a@example.com", "display_name": "Ada", "role": "admin"},
    ],
    ids=["blank-name", "long-name", "zero-id", "huge-id", "bad-email", "extra-field"],
)
async def test_invalid_user_bodies_are_422(
    client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    response = await client.post("/internal/users", json=body)

    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


async def test_me_returns_profile_and_prefs(
    client: httpx.AsyncClient, create_user: CreateUser
) -> None:
    user_id = await create_user("Grace")

    response = await client.get(f"/internal/users/{user_id}/me")

    assert response.status_code == 200
    assert set(response.json()) == {
        "id", "email", "display_name", "created_at", "bio", "avatar_url", "prefs"
    }  # fmt: skip
    assert response.json()["display_name"] == "Grace"


@pytest.mark.parametrize("route", ["me", "public", "events", "dashboard"])
async def test_unknown_users_are_404_on_every_read(client: httpx.AsyncClient, route: str) -> None:
    response = await client.get(f"/internal/users/987654321/{route}")

    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "user not found"}


@pytest.mark.parametrize(
    ("method", "route", "body"),
    [
        ("PATCH", "profile", {"bio": "x"}),
        ("PUT", "prefs", PREFS),
        ("POST", "events", {"kind": "a.b", "actor_id": 1, "payload": {}}),
    ],
)
async def test_unknown_users_are_404_on_every_write(
    client: httpx.AsyncClient, method: str, route: str, body: dict[str, Any]
) -> None:
    response = await client.request(method, f"/internal/users/987654321/{route}", json=body)

    assert response.status_code == 404


async def test_invalid_user_id_in_the_path_is_422(client: httpx.AsyncClient) -> None:
    assert (await client.get("/internal/users/0/me")).status_code == 422
    assert (await client.get(f"/internal/users/{2**63}/me")).status_code == 422


async def test_second_me_costs_no_statement_and_a_write_invalidates_it(
    committed_client: httpx.AsyncClient, committed_users: CreateUser
) -> None:
    user_id = await committed_users("Cached")

    cold = await committed_client.get(f"/internal/users/{user_id}/me")
    warm = await committed_client.get(f"/internal/users/{user_id}/me")

    assert statements(cold) == 1
    assert statements(warm) == 0
    assert warm.json() == cold.json()
    patch = await committed_client.patch(
        f"/internal/users/{user_id}/profile", json={"display_name": "Renamed"}
    )
    assert patch.status_code == 200
    after = await committed_client.get(f"/internal/users/{user_id}/me")
    assert after.json()["display_name"] == "Renamed"
    assert statements(after) == 1


async def test_patch_writes_only_the_fields_sent(
    client: httpx.AsyncClient, create_user: CreateUser
) -> None:
    user_id = await create_user("Keep Me")
    await client.patch(
        f"/internal/users/{user_id}/profile",
        json={"bio": "first", "avatar_url": "https://cdn.example.com/a.png"},
    )

    response = await client.patch(f"/internal/users/{user_id}/profile", json={"bio": "second"})

    assert response.status_code == 200
    body = response.json()
    assert body["display_name"] == "Keep Me"
    assert body["bio"] == "second"
    assert body["avatar_url"] == "https://cdn.example.com/a.png"
    assert body["prefs"]["theme"] == "system"


async def test_patch_with_null_avatar_clears_it(
    client: httpx.AsyncClient, create_user: CreateUser
) -> None:
    user_id = await create_user()
    await client.patch(
        f"/internal/users/{user_id}/profile", json={"avatar_url": "https://example.com/a.png"}
    )

    response = await client.patch(f"/internal/users/{user_id}/profile", json={"avatar_url": None})

    assert response.json()["avatar_url"] is None


async def test_patch_records_a_profile_updated_event(
    client: httpx.AsyncClient, create_user: CreateUser
) -> None:
    user_id = await create_user()

    await client.patch(
        f"/internal/users/{user_id}/profile", json={"display_name": "New", "bio": "hi"}
    )

    items = (await client.get(f"/internal/users/{user_id}/events")).json()["items"]
    assert [(i["kind"], i["payload"], i["actor"]) for i in items] == [
        (
            "profile.updated",
            {"fields": ["bio", "display_name"]},
            {"id": user_id, "display_name": "New"},
        )
    ]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"display_name": None},
        {"bio": None},
        {"display_name": " "},
        {"bio": "x" * 2001},
        {"avatar_url": "ftp://example.com/a.png"},
        {"avatar_url": "https://example.com/" + "a" * 500},
        {"bio": "ok", "email": "new@example.com"},
    ],
    ids=[
        "empty", "null-name", "null-bio", "blank-name", "long-bio", "ftp-avatar", "long-avatar",
        "extra-field",
    ],
)  # fmt: skip
async def test_invalid_patches_are_422_and_change_nothing(
    client: httpx.AsyncClient, create_user: CreateUser, body: dict[str, object]
) -> None:
    user_id = await create_user("Unchanged")

    response = await client.patch(f"/internal/users/{user_id}/profile", json=body)

    assert response.status_code == 422
    me = (await client.get(f"/internal/users/{user_id}/me")).json()
    assert me["display_name"] == "Unchanged" and me["bio"] == ""


async def test_put_prefs_replaces_them_and_invalidates_me(
    client: httpx.AsyncClient, create_user: CreateUser
) -> None:
    user_id = await create_user()
    before = await client.get(f"/internal/users/{user_id}/me")
    assert before.json()["prefs"]["theme"] == "system"
    prefs = {**PREFS, "webhook_url": "https://93.184.215.14/hooks/1"}

    response = await client.put(f"/internal/users/{user_id}/prefs", json=prefs)

    assert response.status_code == 200
    assert response.json() == prefs
    after = await client.get(f"/internal/users/{user_id}/me")
    assert after.json()["prefs"] == prefs


@pytest.mark.parametrize(
    "change",
    [
        {"theme": "blue"},
        {"locale": "english-please"},
        {"locale": "e"},
        {"email_notifications": "yes"},
        {"webhook_url": "ftp://93.184.215.14/x"},
        {"webhook_url": "not a url"},
        {"extra": 1},
    ],
    ids=["theme", "locale-long", "locale-short", "non-bool", "ftp-webhook", "junk-url", "extra"],
)
async def test_invalid_prefs_are_422(
    client: httpx.AsyncClient, create_user: CreateUser, change: dict[str, object]
) -> None:
    user_id = await create_user()

    response = await client.put(f"/internal/users/{user_id}/prefs", json={**PREFS, **change})

    assert response.status_code == 422


async def test_put_prefs_without_a_required_field_is_422(
    client: httpx.AsyncClient, create_user: CreateUser
) -> None:
    user_id = await create_user()
    body = {k: v for k, v in PREFS.items() if k != "theme"}

    assert (await client.put(f"/internal/users/{user_id}/prefs", json=body)).status_code == 422


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://localhost/hook",
        "http://127.0.0.1:18091/hook",  # the allowed host, but another port
    ],
)
async def test_webhook_urls_into_private_networks_are_refused(
    client: httpx.AsyncClient, create_user: CreateUser, url: str
) -> None:
    user_id = await create_user()

    response = await client.put(
        f"/internal/users/{user_id}/prefs", json={**PREFS, "webhook_url": url}
    )

    assert response.status_code == 422
    assert "webhook_url" in response.json()["detail"]
    me = (await client.get(f"/internal/users/{user_id}/me")).json()
    assert me["prefs"]["webhook_url"] is None


async def test_allow_listed_webhook_host_is_accepted(
    client: httpx.AsyncClient, create_user: CreateUser
) -> None:
    user_id = await create_user()
    url = "http://127.0.0.1:18090/hooks/receiver"

    response = await client.put(
        f"/internal/users/{user_id}/prefs", json={**PREFS, "webhook_url": url}
    )

    assert response.status_code == 200
    assert response.json()["webhook_url"] == url


async def test_public_profile_hides_private_fields_and_is_cached(
    committed_client: httpx.AsyncClient, committed_users: CreateUser
) -> None:
    user_id = await committed_users("Public")

    cold = await committed_client.get(f"/internal/users/{user_id}/public")
    warm = await committed_client.get(f"/internal/users/{user_id}/public")

    assert cold.json() == {"id": user_id, "display_name": "Public", "bio": "", "avatar_url": None}
    assert (statements(cold), statements(warm)) == (1, 0)
    await committed_client.patch(f"/internal/users/{user_id}/profile", json={"bio": "now"})
    after = await committed_client.get(f"/internal/users/{user_id}/public")
    assert after.json()["bio"] == "now"


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/readyz")).status_code == 200
    assert (await client.get("/metrics")).status_code == 200
