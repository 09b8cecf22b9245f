"""Reports end to end: request, idempotency, ownership, download, email and webhook."""

from __future__ import annotations

import io
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pypdf import PdfReader
from stack_launcher.records import wait_for_records
from stack_launcher.stack import Stack

from .conftest import Account, assert_error, wait_for_report

pytestmark = pytest.mark.slow

REPORT_KEYS = {"id", "kind", "days", "status", "created_at", "completed_at"}


def _request(
    client: httpx.Client, account: Account, body: dict[str, Any], key: str | None = None
) -> httpx.Response:
    headers = {**account.headers, **({"Idempotency-Key": key} if key else {})}
    return client.post("/v1/reports", json=body, headers=headers)


@pytest.fixture(scope="module")
def delivered(client: httpx.Client, alice: Account, stack: Stack) -> dict[str, Any]:
    """Alice, with email on and a webhook set, asks for a report and waits until it is done."""
    hook = f"{stack.config.webhook_base_url}/alice-{uuid.uuid4().hex[:8]}"
    prefs = {"theme": "light", "locale": "en", "email_notifications": True, "webhook_url": hook}
    assert client.put("/v1/me/prefs", json=prefs, headers=alice.headers).status_code == 200
    response = _request(client, alice, {"kind": "activity_pdf", "days": 30})
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert {"id", "status"} <= set(accepted)
    assert accepted["status"] in {"queued", "running", "done"}
    report = wait_for_report(client, alice, accepted["id"])
    return {"report": report, "hook_path": urlsplit(hook).path}


def test_report_completes(delivered: dict[str, Any]) -> None:
    report = delivered["report"]
    assert set(report) >= REPORT_KEYS
    assert report["status"] == "done", report
    assert report["kind"] == "activity_pdf" and report["days"] == 30
    assert report["completed_at"] is not None


def test_download_redirects_to_a_signed_pdf(
    client: httpx.Client, alice: Account, delivered: dict[str, Any]
) -> None:
    report_id = delivered["report"]["id"]
    response = client.get(f"/v1/reports/{report_id}/download", headers=alice.headers)
    assert response.status_code == 307, response.text
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert parts.path == f"/v1/files/reports/{report_id}"
    query = parse_qs(parts.query)
    assert {"expires", "signature"} <= set(query)

    pdf = client.get(location)  # the signed link needs no bearer token
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"].startswith("application/pdf")
    assert pdf.content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf.content))
    assert len(reader.pages) >= 2, "a title page and at least one page of events"
    assert "Activity report" in reader.pages[0].extract_text()

    forged = location.replace(query["signature"][0], "0" * len(query["signature"][0]))
    assert client.get(forged).status_code in {401, 403, 404}


def test_email_arrived_with_the_pdf(
    alice: Account, delivered: dict[str, Any], stack: Stack
) -> None:
    report_id = delivered["report"]["id"]
    [mail] = wait_for_records(
        stack.smtp_record,
        lambda record: alice.email in record["rcpt_tos"] and report_id in record["body_text"],
        timeout=30,
    )
    assert mail["subject"] == "Your activity report is ready"
    assert mail["mail_from"] == "reports@refactor-lab.test"
    assert mail["has_attachment"]
    assert "30" in mail["body_text"]


def test_webhook_arrived_signed(alice: Account, delivered: dict[str, Any], stack: Stack) -> None:
    report = delivered["report"]
    records = wait_for_records(
        stack.webhook_record,
        lambda record: record["path"] == delivered["hook_path"] and record["status"] == 200,
        timeout=30,
    )
    hook = records[0]
    assert hook["signature_valid"], "X-Signature must be the HMAC of the raw body"
    assert hook["headers"]["x-signature"].startswith("sha256=")
    body = hook["body"]
    assert body["event"] == "report.done"
    assert body["report_id"] == report["id"] and body["user_id"] == alice.id
    assert body["kind"] == "activity_pdf" and body["days"] == 30
    assert body["completed_at"]


def test_idempotency_key_replays_and_guards_the_body(client: httpx.Client, bob: Account) -> None:
    key = f"key-{uuid.uuid4().hex}"
    body = {"kind": "activity_pdf", "days": 7}
    first = _request(client, bob, body, key)
    assert first.status_code == 202, first.text
    replay = _request(client, bob, body, key)
    assert replay.status_code in {200, 202}, replay.text
    assert replay.json()["id"] == first.json()["id"]
    other = _request(client, bob, {"kind": "activity_pdf", "days": 8}, key)
    assert_error(other, 422)
    wait_for_report(client, bob, first.json()["id"])


def test_reports_are_private(
    client: httpx.Client, alice: Account, bob: Account, delivered: dict[str, Any]
) -> None:
    report_id = delivered["report"]["id"]
    mine = client.get("/v1/reports", headers=alice.headers)
    assert mine.status_code == 200, mine.text
    assert report_id in [r["id"] for r in mine.json()["items"]]
    for r in mine.json()["items"]:
        assert set(r) >= REPORT_KEYS

    theirs = client.get("/v1/reports", headers=bob.headers).json()["items"]
    assert report_id not in [r["id"] for r in theirs]
    assert_error(client.get(f"/v1/reports/{report_id}", headers=bob.headers), 404, "not_found")
    download = client.get(f"/v1/reports/{report_id}/download", headers=bob.headers)
    assert_error(download, 404, "not_found")
    unknown = client.get(f"/v1/reports/{uuid.uuid4()}", headers=alice.headers)
    assert_error(unknown, 404, "not_found")


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "activity_pdf", "days": 0},
        {"kind": "activity_pdf", "days": 91},
        {"kind": "invoice_pdf", "days": 7},
        {"kind": "activity_pdf"},
        {"kind": "activity_pdf", "days": 7, "format": "a4"},
    ],
    ids=["days-0", "days-91", "kind", "missing-days", "extra-field"],
)
def test_report_request_validation(
    client: httpx.Client, bob: Account, body: dict[str, Any]
) -> None:
    assert_error(_request(client, bob, body), 422, "validation_error")
