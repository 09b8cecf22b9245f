"""The third-party stand-ins: SMTP sink and webhook receiver, run as real processes."""

from __future__ import annotations

import json
import smtplib
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from stack_launcher.net import free_port
from stack_launcher.records import read_records, wait_for_records, wait_for_records_async
from stack_launcher.supervisor import ProcessSpec, Supervisor
from stack_launcher.webhook_receiver import sign

SECRET = "test-webhook-secret"


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[Supervisor]:
    """Yield a supervisor that stops its processes after the test."""
    with Supervisor(tmp_path / "logs") as supervisor:
        yield supervisor


def start_smtp_sink(supervisor: Supervisor, record: Path, latency_ms: int) -> int:
    port = free_port()
    argv = [sys.executable, "-m", "stack_launcher.smtp_sink", "--port", str(port)]
    argv += ["--latency-ms", str(latency_ms), "--record", str(record)]
    supervisor.start_all([ProcessSpec("smtp_sink", argv, port=port, ready_path=None)], timeout=15)
    return port


def start_receiver(supervisor: Supervisor, record: Path, *extra: str) -> str:
    port = free_port()
    argv = [sys.executable, "-m", "stack_launcher.webhook_receiver", "--port", str(port)]
    argv += ["--latency-ms", "20", "--record", str(record), *extra]
    spec = ProcessSpec(
        "webhook_receiver",
        argv,
        env={"WEBHOOK_RECEIVER_SECRET": SECRET},
        port=port,
        ready_path="/healthz",
    )
    supervisor.start_all([spec], timeout=15)
    return f"http://127.0.0.1:{port}"


def test_smtp_sink_records_a_message_after_the_latency(
    supervisor: Supervisor, tmp_path: Path
) -> None:
    record = tmp_path / "mail.jsonl"
    port = start_smtp_sink(supervisor, record, latency_ms=150)
    message = EmailMessage()
    message["From"] = "reports@example.test"
    message["To"] = "ada@example.test"
    message["Subject"] = "Your report is ready"
    message.set_content("Download it from the dashboard.")
    message.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf")

    started = time.monotonic()
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.send_message(message)
    elapsed = time.monotonic() - started

    assert elapsed >= 0.150
    [mail] = wait_for_records(record, timeout=5)
    assert mail["mail_from"] == "reports@example.test"
    assert mail["rcpt_tos"] == ["ada@example.test"]
    assert mail["subject"] == "Your report is ready"
    assert mail["body_text"].strip() == "Download it from the dashboard."
    assert mail["has_attachment"] is True
    assert mail["received_at"]


def test_webhook_receiver_checks_signatures(supervisor: Supervisor, tmp_path: Path) -> None:
    record = tmp_path / "hooks.jsonl"
    base_url = start_receiver(supervisor, record)
    body = json.dumps({"event": "report.done", "report_id": "r1"}).encode()

    with httpx.Client(base_url=base_url, trust_env=False, timeout=5) as client:
        good = client.post(
            "/hooks/user-1",
            content=body,
            headers={"X-Signature": sign(SECRET, body), "Content-Type": "application/json"},
        )
        bad = client.post("/hooks/user-2", content=body, headers={"X-Signature": "sha256=00"})
        unsigned = client.post("/hooks/user-3", content=body)
        listed = client.get("/received").json()

    assert [good.status_code, bad.status_code, unsigned.status_code] == [200, 200, 200]
    records = {r["path"]: r for r in wait_for_records(record, count=3, timeout=5)}
    assert records["/hooks/user-1"]["signature_valid"] is True
    assert records["/hooks/user-1"]["body"] == {"event": "report.done", "report_id": "r1"}
    assert records["/hooks/user-1"]["headers"]["x-signature"].startswith("sha256=")
    assert records["/hooks/user-2"]["signature_valid"] is False
    assert records["/hooks/user-3"]["signature_valid"] is False
    assert [r["path"] for r in listed] == ["/hooks/user-1", "/hooks/user-2", "/hooks/user-3"]


async def test_webhook_receiver_fails_the_first_deliveries_per_path(
    supervisor: Supervisor, tmp_path: Path
) -> None:
    record = tmp_path / "hooks.jsonl"
    base_url = start_receiver(supervisor, record, "--fail-first", "2")
    body = b'{"event": "report.done"}'
    headers = {"X-Signature": sign(SECRET, body)}

    async with httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=5) as client:
        statuses = [(await client.post("/hooks/a", content=body, headers=headers)).status_code]
        statuses += [(await client.post("/hooks/a", content=body, headers=headers)).status_code]
        statuses += [(await client.post("/hooks/b", content=body, headers=headers)).status_code]
        statuses += [(await client.post("/hooks/a", content=body, headers=headers)).status_code]

    assert statuses == [503, 503, 503, 200]
    delivered = await wait_for_records_async(record, lambda r: r["status"] == 200, timeout=5)
    assert [(r["path"], r["attempt"]) for r in delivered] == [("/hooks/a", 3)]


def test_record_helpers(tmp_path: Path) -> None:
    record = tmp_path / "partial.jsonl"
    assert read_records(record) == []
    record.write_text('{"n": 1}\n{"n": 2}\n{"n": ')  # a line still being written
    assert read_records(record) == [{"n": 1}, {"n": 2}]
    with pytest.raises(TimeoutError, match="0 of 1 expected matching records"):
        wait_for_records(record, lambda r: r["n"] == 3, timeout=0.2)
