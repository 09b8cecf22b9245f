"""End to end through core_api: what only the after layout promises beyond the contract.

The contract suite (tests/contract) covers the public API on both layouts; these tests cover
the after layout's own claims: the dashboard's cost, a Redis outage, the jobs pipeline's
third-party deliveries and the evidence each request reports.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from stack_launcher.records import read_records
from stack_launcher.stack import Stack

pytestmark = pytest.mark.slow


def register_and_login(client: httpx.Client, email: str) -> dict[str, str]:
    body = {"email": email, "password": "a-long-password", "display_name": "E2E"}
    assert client.post("/v1/auth/register", json=body).status_code == 201
    login = client.post("/v1/auth/login", json={"email": email, "password": "a-long-password"})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def evidence(response: httpx.Response) -> tuple[int, int, int]:
    headers = response.headers
    return (
        int(headers["x-evidence-db-statements"]),
        int(headers["x-evidence-hops"]),
        int(headers["x-evidence-hop-depth"]),
    )


def test_dashboard_costs_at_most_three_statements_cold_and_one_warm(
    after_stack: Stack, client: httpx.Client
) -> None:
    auth = register_and_login(client, "dash-cost@example.com")
    # The login's event is recorded after the login answers; let it land, or it would change
    # the dashboard between the cold and the warm read (the feed does not fill the dashboard's
    # cache, so the next read is still cold).
    deadline = time.monotonic() + 10
    while not client.get("/v1/me/events", headers=auth).json()["items"]:
        assert time.monotonic() < deadline, "the login event never appeared"
        time.sleep(0.05)
    cold = client.get("/v1/me/dashboard", headers=auth)
    assert cold.status_code == 200, cold.text
    statements, hops, depth = evidence(cold)
    assert statements <= 3, f"cold dashboard ran {statements} statements"
    assert depth == 1, "core_api calls its peers in one level"
    assert hops == 2, "one call to user, one to jobs"

    warm = client.get("/v1/me/dashboard", headers=auth)
    assert warm.json() == cold.json()
    assert evidence(warm) == (0, 0, 0), "both views are read at the edge: no hop, no statement"


def test_a_public_profile_keeps_its_etag_from_the_owner_to_the_edge(
    after_stack: Stack, client: httpx.Client
) -> None:
    auth = register_and_login(client, "etag@example.com")
    user_id = client.get("/v1/me", headers=auth).json()["id"]
    cold = client.get(f"/v1/users/{user_id}")  # the user service renders and caches it
    warm = client.get(f"/v1/users/{user_id}")  # core_api reads the cached view
    assert (cold.status_code, warm.status_code) == (200, 200)
    assert (evidence(cold)[1], evidence(warm)[1]) == (1, 0)
    assert warm.headers["etag"] == cold.headers["etag"]
    assert (
        client.get(
            f"/v1/users/{user_id}", headers={"If-None-Match": cold.headers["etag"]}
        ).status_code
        == 304
    )


def test_reads_are_served_from_postgres_while_redis_is_down(
    after_stack: Stack, client: httpx.Client
) -> None:
    auth = register_and_login(client, "redis-down@example.com")
    assert client.get("/v1/me", headers=auth).status_code == 200
    after_stack.infra.stop_redis()
    try:
        me = client.get("/v1/me", headers=auth)
        assert me.status_code == 200, me.text
        assert me.json()["email"] == "redis-down@example.com"
        dashboard = client.get("/v1/me/dashboard", headers=auth)
        assert dashboard.status_code == 200, dashboard.text
        login = client.post(
            "/v1/auth/login", json={"email": "redis-down@example.com", "password": "x" * 10}
        )
        assert login.status_code == 503, "the login limiter fails closed"
        assert login.json()["error"] == "service_unavailable"
    finally:
        after_stack.infra.start_redis()
    assert client.get("/v1/me", headers=auth).status_code == 200


def wait_for(predicate: Any, *, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)  # polling the asynchronous job, as a client would
    raise AssertionError("condition not met in time")


def test_report_pipeline_delivers_pdf_email_and_signed_webhook(
    after_stack: Stack, client: httpx.Client
) -> None:
    auth = register_and_login(client, "pipeline@example.com")
    hook = f"{after_stack.config.webhook_base_url}/pipeline"
    prefs = {"theme": "dark", "locale": "en", "email_notifications": True, "webhook_url": hook}
    assert client.put("/v1/me/prefs", json=prefs, headers=auth).status_code == 200

    created = client.post("/v1/reports", json={"kind": "activity_pdf", "days": 7}, headers=auth)
    assert created.status_code == 202, created.text
    assert created.json()["status"] in {"queued", "running", "done"}
    report_id = created.json()["id"]

    def done() -> bool:
        report = client.get(f"/v1/reports/{report_id}", headers=auth).json()
        assert report["status"] != "failed", report
        return bool(report["status"] == "done")

    wait_for(done)
    download = client.get(f"/v1/reports/{report_id}/download", headers=auth)
    assert download.status_code == 307
    pdf = client.get(download.headers["location"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")

    emails = wait_for(
        lambda: [
            m
            for m in read_records(after_stack.smtp_record)
            if "pipeline@example.com" in m["rcpt_tos"]
        ]  # fmt: skip
    )
    assert len(emails) == 1 and emails[0]["has_attachment"]

    hooks = wait_for(
        lambda: [
            h for h in read_records(after_stack.webhook_record) if h["path"].endswith("/pipeline")
        ]
    )
    assert len(hooks) == 1
    assert hooks[0]["signature_valid"] is True
    assert hooks[0]["body"]["report_id"] == report_id
    assert hooks[0]["body"]["event"] == "report.done"
