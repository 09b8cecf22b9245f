"""Contract suite: one black-box test set over HTTP, run against each layout's public gateway.

Each layout runs once per session through the root conftest's `stacks` (small scale).
The suite logs in sparingly: both layouts limit logins to 20 a minute per IP.
"""

from __future__ import annotations

import importlib.util
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest
from stack_launcher.pool import StackPool
from stack_launcher.seed import SEED_PASSWORD, get_scale
from stack_launcher.seed.people import generate_users
from stack_launcher.stack import Stack

PASSWORD = "correct horse battery staple"
FINAL_STATUSES = {"done", "failed"}


def _layout_available(layout: str) -> str | None:
    """Return why a layout cannot run here, or None when it can."""
    if layout == "after" and importlib.util.find_spec("core_api.main") is None:
        return "the after layout has no app yet (core_api.main is missing)"
    return None


@pytest.fixture(scope="session", params=["before", "after"])
def layout(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    reason = _layout_available(name)
    if reason is not None:
        pytest.skip(reason)
    return name


@pytest.fixture(scope="session")
def stack(layout: str, stacks: StackPool) -> Stack:
    return stacks.get(layout)


@pytest.fixture(scope="session")
def client(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=60.0, trust_env=False) as http:
        yield http


@dataclass
class Account:
    """A user of the API with a live token pair."""

    id: int
    email: str
    password: str
    display_name: str
    tokens: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}


def unique_email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def register(client: httpx.Client, prefix: str) -> Account:
    """Register a fresh user (not logged in)."""
    email = unique_email(prefix)
    display_name = f"{prefix.title()} Tester"
    body = {"email": email, "password": PASSWORD, "display_name": display_name}
    response = client.post("/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    return Account(response.json()["id"], email, PASSWORD, display_name)


def login(client: httpx.Client, account: Account) -> Account:
    """Log an account in and keep its token pair."""
    response = client.post(
        "/v1/auth/login", json={"email": account.email, "password": account.password}
    )
    assert response.status_code == 200, response.text
    account.tokens = response.json()
    return account


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    """Assert the one error shape {"error", "detail"} with the given status."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail"}, body
    assert isinstance(body["error"], str) and isinstance(body["detail"], str)
    if code is not None:
        assert body["error"] == code


def wait_for_report(
    client: httpx.Client, account: Account, report_id: str, timeout: float = 90.0
) -> dict[str, Any]:
    """Poll a report until it is done or failed (the after layout works in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/v1/reports/{report_id}", headers=account.headers)
        assert response.status_code == 200, response.text
        report: dict[str, Any] = response.json()
        if report["status"] in FINAL_STATUSES or time.monotonic() > deadline:
            return report
        time.sleep(0.2)


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture(scope="session")
def alice(client: httpx.Client) -> Account:
    return login(client, register(client, "alice"))


@pytest.fixture(scope="session")
def bob(client: httpx.Client) -> Account:
    return login(client, register(client, "bob"))


@pytest.fixture(scope="session")
def heavy_user(client: httpx.Client) -> Account:
    """The seeded user with the most activity: a long feed to page through."""
    users = generate_users(get_scale("small"), 42, datetime.now().astimezone())
    busiest = max(users, key=lambda user: user.activity)
    account = Account(busiest.id, busiest.email, SEED_PASSWORD, busiest.display_name)
    return login(client, account)
