"""OWASP API Top 10 (2023) cases, end to end through the running after layout.

What tests/contract and the services' own tests already prove is not repeated here (see
docs/reliability.md for the map); these add the cases only a real deployment can show: real keys
and claims, the real limiter, the real SSRF allow-list, real signed links.
"""

from __future__ import annotations

import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest
from security_support import (
    PASSWORD,
    Account,
    assert_error,
    fresh_ip,
    login,
    wait_done,
)
from stack_launcher.stack import Stack

pytestmark = pytest.mark.slow

ISSUER, AUDIENCE = "fastapi-refactor-lab", "fastapi-refactor-lab:api"


# -- API1 broken object level authorization ------------------------------------------------


def test_another_users_events_never_show_even_through_their_cursor(
    client: httpx.Client, alice: Account, bob: Account
) -> None:
    # Bob leaves activity; alice pages her own feed with bob's cursor.
    for n in range(3):
        patched = client.patch("/v1/me", json={"bio": f"bob {n}"}, headers=bob.headers)
        assert patched.status_code == 200, patched.text
    bobs = client.get("/v1/me/events?limit=1", headers=bob.headers).json()
    assert bobs["next_cursor"], bobs
    page = client.get(
        "/v1/me/events", params={"limit": 100, "cursor": bobs["next_cursor"]}, headers=alice.headers
    )
    assert page.status_code in (200, 422), page.text
    bob_ids = {
        e["id"] for e in client.get("/v1/me/events?limit=100", headers=bob.headers).json()["items"]
    }
    if page.status_code == 200:
        assert not bob_ids & {e["id"] for e in page.json()["items"]}
    own = client.get("/v1/me/events?limit=100", headers=alice.headers).json()["items"]
    assert not bob_ids & {e["id"] for e in own}


# -- API2 broken authentication ------------------------------------------------------------


def _claims(account: Account, **overrides: Any) -> dict[str, Any]:
    issued = jwt.decode(account.tokens["access_token"], options={"verify_signature": False})
    return {**issued, **overrides}


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda c, key: jwt.encode(c, None, algorithm="none"), id="alg-none"),
        pytest.param(lambda c, key: jwt.encode(c, "x" * 40, algorithm="HS256"), id="wrong-key"),
        pytest.param(
            lambda c, key: jwt.encode({**c, "exp": int(time.time()) - 5}, key, "HS256"),
            id="expired",
        ),
        pytest.param(
            lambda c, key: jwt.encode({**c, "nbf": int(time.time()) + 300}, key, "HS256"),
            id="not-yet-valid",
        ),
        pytest.param(
            lambda c, key: jwt.encode({**c, "aud": "another-api"}, key, "HS256"),
            id="wrong-audience",
        ),
        pytest.param(
            lambda c, key: jwt.encode({**c, "sub": "1"}, key, "HS512"),
            id="other-algorithm",
            marks=pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning"),
        ),
    ],
)
def test_forged_tokens_are_401_with_the_deployments_real_key(
    client: httpx.Client, security_stack: Stack, alice: Account, forge: Any
) -> None:
    # Signed with the stack's real key where the forgery needs it: only the claim is wrong.
    token = forge(_claims(alice), security_stack.secrets["jwt"])
    response = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert_error(response, 401, "unauthorized")


def test_the_real_key_and_claims_are_accepted(
    client: httpx.Client, security_stack: Stack, alice: Account
) -> None:
    # The control for the forgeries above: re-signing the untouched claims works.
    token = jwt.encode(_claims(alice), security_stack.secrets["jwt"], algorithm="HS256")
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_login_from_one_address_is_limited_across_accounts(client: httpx.Client) -> None:
    ip = fresh_ip()
    statuses = [
        login(client, f"guess-{n}-{uuid.uuid4().hex[:6]}@example.com", "wrong-password", ip)
        for n in range(21)
    ]
    assert [r.status_code for r in statuses[:20]] == [401] * 20
    assert_error(statuses[20], 429, "rate_limited")
    assert int(statuses[20].headers["Retry-After"]) > 0
    # Another address is not punished for it.
    assert login(client, "someone@example.com", "wrong-password", fresh_ip()).status_code == 401


def test_an_account_is_limited_even_when_it_is_right_on_the_sixth_try(
    client: httpx.Client, alice: Account
) -> None:
    ip = fresh_ip()
    for _ in range(5):
        assert login(client, alice.email, "not-the-password", ip).status_code == 401
    assert_error(login(client, alice.email, PASSWORD, ip), 429, "rate_limited")


# -- API3 broken object property level authorization (mass assignment) ---------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/auth/register", {"id": 1, "is_admin": True}),
        ("PATCH", "/v1/me", {"email": "admin@example.com"}),
        ("PATCH", "/v1/me", {"id": 1}),
        ("PUT", "/v1/me/prefs", {"theme": "dark", "user_id": 1}),
        ("POST", "/v1/auth/login", {"role": "admin"}),
    ],
    ids=["register-id", "me-email", "me-id", "prefs-user-id", "login-role"],
)
def test_fields_a_caller_may_not_set_are_refused(
    client: httpx.Client, alice: Account, method: str, path: str, body: dict[str, Any]
) -> None:
    base: dict[str, Any] = {}
    if path == "/v1/auth/register":
        base = {"email": f"m-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD}
        base["display_name"] = "Mass"
    if path == "/v1/auth/login":
        base = {"email": alice.email, "password": PASSWORD}
    headers = {**alice.headers, "X-Forwarded-For": fresh_ip()}
    response = client.request(method, path, json={**base, **body}, headers=headers)
    assert_error(response, 422, "validation_error")
    me = client.get("/v1/me", headers=alice.headers).json()
    assert me["id"] == alice.id and me["email"] == alice.email


# -- API4 unrestricted resource consumption ------------------------------------------------


def test_a_body_over_the_cap_is_413_at_the_real_edge(client: httpx.Client, alice: Account) -> None:
    body = {"bio": "x" * (70 * 1024)}
    assert_error(client.patch("/v1/me", json=body, headers=alice.headers), 413)
    chunks = (b"x" * 8192 for _ in range(12))  # streamed, no Content-Length to trust
    streamed = client.patch(
        "/v1/me",
        content=chunks,
        headers={**alice.headers, "Content-Type": "application/json"},
    )
    assert_error(streamed, 413)


# -- API7 server-side request forgery ------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:{other_port}",
        "localhost:{port}",
        "10.0.0.5",
        "192.168.1.1",
        "172.16.0.1",
        "169.254.169.254",
        "[::1]:{port}",
        "[::ffff:127.0.0.1]:{port}",
        "[fe80::1]",
        "2130706433:{other_port}",
        "0x7f000001:{other_port}",
        "0177.0.0.1:{other_port}",
        "0.0.0.0:{port}",
        "[fd00::1]",
    ],
)
def test_webhook_urls_into_private_space_are_refused(
    client: httpx.Client, security_stack: Stack, alice: Account, host: str
) -> None:
    port = security_stack.config.webhook_port
    url = f"http://{host.format(port=port, other_port=security_stack.ports['identity'])}/hook"
    prefs = {"theme": "dark", "webhook_url": url}
    assert_error(client.put("/v1/me/prefs", json=prefs, headers=alice.headers), 422)


def test_the_configured_receiver_is_the_only_private_address_allowed(
    client: httpx.Client, security_stack: Stack, alice: Account
) -> None:
    prefs = {"webhook_url": f"{security_stack.config.webhook_base_url}/alice"}
    response = client.put("/v1/me/prefs", json=prefs, headers=alice.headers)
    assert response.status_code == 200, response.text


# -- signed download links -----------------------------------------------------------------


@pytest.fixture(scope="module")
def done_reports(client: httpx.Client, alice: Account, bob: Account) -> dict[str, str]:
    ids = {}
    for name, account in (("alice", alice), ("bob", bob)):
        response = client.post(
            "/v1/reports", json={"kind": "activity_pdf", "days": 1}, headers=account.headers
        )
        assert response.status_code == 202, response.text
        ids[name] = response.json()["id"]
    for name, account in (("alice", alice), ("bob", bob)):
        assert wait_done(client, account, ids[name])["status"] == "done"
    return ids


def _link(client: httpx.Client, account: Account, report_id: str) -> tuple[str, dict[str, str]]:
    response = client.get(f"/v1/reports/{report_id}/download", headers=account.headers)
    assert response.status_code == 307, response.text
    parts = urlsplit(response.headers["location"])
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


def test_signed_links_cannot_be_forged_extended_or_moved(
    client: httpx.Client, alice: Account, bob: Account, done_reports: dict[str, str]
) -> None:
    path, query = _link(client, alice, done_reports["alice"])
    opened = client.get(f"{path}?{urlencode(query)}")
    assert opened.status_code == 200 and opened.content.startswith(b"%PDF")
    _, bobs_query = _link(client, bob, done_reports["bob"])
    bobs_path = path.replace(done_reports["alice"], done_reports["bob"])
    tampered = {
        "forged signature": (path, {**query, "signature": "0" * 64}),
        "extended expiry": (path, {**query, "expires": str(int(query["expires"]) + 3600)}),
        "another report": (bobs_path, query),
        "another owner": (path, {**query, "user_id": str(bob.id)}),
        "bob's signature on alice's report": (path, bobs_query),
        "expired": (path, {**query, "expires": "1"}),
        "no signature": (path, {k: v for k, v in query.items() if k != "signature"}),
    }
    for name, (target, params) in tampered.items():
        response = client.get(f"{target}?{urlencode(params)}")
        assert response.status_code in (404, 422), (name, response.status_code)
        assert b"%PDF" not in response.content, name
