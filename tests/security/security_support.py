"""Helpers of the security tests (imported by name: conftest puts this folder on sys.path)."""

from __future__ import annotations

import itertools
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

PASSWORD = "security-tests-password-1"
_addresses = itertools.count(1)


def fresh_ip() -> str:
    """Return a client address no other test uses (core_api believes loopback's XFF here)."""
    n = next(_addresses)
    return f"198.51.{n // 250}.{n % 250 + 1}"


@dataclass
class Account:
    id: int
    email: str
    password: str
    ip: str
    tokens: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}


def login(client: httpx.Client, email: str, password: str, ip: str) -> httpx.Response:
    return client.post(
        "/v1/auth/login",
        json={"email": email, "password": password},
        headers={"X-Forwarded-For": ip},
    )


def new_account(client: httpx.Client, prefix: str) -> Account:
    """Register and log in a fresh user, from an address of its own."""
    email = f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"
    body = {"email": email, "password": PASSWORD, "display_name": prefix.title()}
    registered = client.post("/v1/auth/register", json=body)
    assert registered.status_code == 201, registered.text
    account = Account(registered.json()["id"], email, PASSWORD, fresh_ip())
    response = login(client, email, PASSWORD, account.ip)
    assert response.status_code == 200, response.text
    account.tokens = response.json()
    return account


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error", "detail"}, body
    if code is not None:
        assert body["error"] == code, body


def wait_done(client: httpx.Client, account: Account, report_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        report: dict[str, Any] = client.get(
            f"/v1/reports/{report_id}", headers=account.headers
        ).json()
        if report["status"] in ("done", "failed") or time.monotonic() > deadline:
            return report
        time.sleep(0.2)
