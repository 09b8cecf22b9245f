"""/v1/me, profile updates, preferences and public profiles."""

from __future__ import annotations

import httpx
import pytest
from stack_launcher.stack import Stack

from .conftest import Account, assert_error

pytestmark = pytest.mark.slow

PREFS_KEYS = {"theme", "locale", "email_notifications", "webhook_url"}


def test_me_has_user_profile_and_prefs(client: httpx.Client, bob: Account) -> None:
    response = client.get("/v1/me", headers=bob.headers)
    assert response.status_code == 200, response.text
    me = response.json()
    assert {"id", "email", "display_name", "created_at", "bio", "avatar_url", "prefs"} <= set(me)
    assert (me["id"], me["email"], me["display_name"]) == (bob.id, bob.email, bob.display_name)
    assert set(me["prefs"]) == PREFS_KEYS
    assert me["prefs"]["theme"] in {"light", "dark", "system"}


def test_patch_me_is_partial(client: httpx.Client, bob: Account) -> None:
    response = client.patch("/v1/me", json={"bio": "Writes tests."}, headers=bob.headers)
    assert response.status_code == 200, response.text
    assert response.json()["bio"] == "Writes tests."
    response = client.patch(
        "/v1/me",
        json={"display_name": "Robert Tester", "avatar_url": "https://example.test/bob.png"},
        headers=bob.headers,
    )
    assert response.status_code == 200, response.text
    me = client.get("/v1/me", headers=bob.headers).json()
    assert me["display_name"] == "Robert Tester"
    assert me["avatar_url"] == "https://example.test/bob.png"
    assert me["bio"] == "Writes tests.", "fields not sent must stay as they were"
    bob.display_name = "Robert Tester"


@pytest.mark.parametrize(
    "body",
    [{"display_name": ""}, {"bio": "x" * 5000}, {"email": "new@example.com"}, {"role": "admin"}],
    ids=["empty-name", "long-bio", "email-not-patchable", "extra-field"],
)
def test_patch_me_rejects_invalid_input(
    client: httpx.Client, bob: Account, body: dict[str, object]
) -> None:
    assert_error(client.patch("/v1/me", json=body, headers=bob.headers), 422, "validation_error")


def test_put_prefs_replaces_them(client: httpx.Client, bob: Account, stack: Stack) -> None:
    prefs = {
        "theme": "dark",
        "locale": "de",
        "email_notifications": False,
        "webhook_url": f"{stack.config.webhook_base_url}/bob",
    }
    response = client.put("/v1/me/prefs", json=prefs, headers=bob.headers)
    assert response.status_code == 200, response.text
    assert response.json() == prefs
    assert client.get("/v1/me", headers=bob.headers).json()["prefs"] == prefs
    prefs.update(webhook_url=None, email_notifications=True, theme="system")
    assert client.put("/v1/me/prefs", json=prefs, headers=bob.headers).json() == prefs


@pytest.mark.parametrize(
    "change",
    [
        {"theme": "pink"},
        {"email_notifications": "sometimes"},
        {"webhook_url": "not a url"},
        {"webhook_url": "ftp://example.test/hook"},
        {"extra": 1},
    ],
    ids=["theme", "bool", "url", "scheme", "extra-field"],
)
def test_put_prefs_rejects_invalid_input(
    client: httpx.Client, bob: Account, change: dict[str, object]
) -> None:
    prefs = {"theme": "light", "locale": "en", "email_notifications": True, "webhook_url": None}
    response = client.put("/v1/me/prefs", json={**prefs, **change}, headers=bob.headers)
    assert_error(response, 422, "validation_error")


def test_public_profile(client: httpx.Client, alice: Account, bob: Account) -> None:
    response = client.get(f"/v1/users/{bob.id}", headers=alice.headers)
    assert response.status_code == 200, response.text
    profile = response.json()
    assert set(profile) == {"id", "display_name", "bio", "avatar_url"}, "no email in public"
    assert profile["id"] == bob.id
    etag = response.headers.get("ETag")
    if etag is not None:  # conditional requests are optional in the contract
        again = client.get(f"/v1/users/{bob.id}", headers={**alice.headers, "If-None-Match": etag})
        assert again.status_code == 304


def test_unknown_user_is_404(client: httpx.Client, alice: Account) -> None:
    assert_error(client.get("/v1/users/987654321", headers=alice.headers), 404, "not_found")
