"""email service: tells a user by SMTP that their report is ready, with the PDF attached."""

from __future__ import annotations

import smtplib
import uuid
from email.message import EmailMessage

from pydantic import BaseModel

from before_layout.errors import ApiError
from before_layout.settings import get_settings
from before_layout.web import create_service

app, db = create_service("email")
settings = get_settings()

SENDER = "reports@refactor-lab.test"
SUBJECT = "Your activity report is ready"


class ReportReady(BaseModel):
    report_id: uuid.UUID


def build_message(*, to: str, name: str, report_id: str, days: int, pdf: bytes) -> EmailMessage:
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = to
    message["Subject"] = SUBJECT
    message.set_content(
        f"Hello {name},\n\n"
        f"your activity report {report_id} covering the last {days} days is ready.\n"
        "The PDF is attached.\n"
    )
    message.add_attachment(
        pdf, maintype="application", subtype="pdf", filename=f"activity-report-{report_id}.pdf"
    )
    return message


@app.post("/internal/report-ready", status_code=202)
async def report_ready(body: ReportReady) -> dict[str, str]:
    report = db.fetch_one("SELECT * FROM reports WHERE id = %s", (body.report_id,))
    if report is None or report["pdf"] is None:
        raise ApiError(404, "report file not found")
    user = db.fetch_one("SELECT * FROM users WHERE id = %s", (report["user_id"],))
    assert user is not None
    message = build_message(
        to=user["email"],
        name=user["display_name"],
        report_id=str(report["id"]),
        days=report["days"],
        pdf=bytes(report["pdf"]),
    )
    try:
        # ANTI-PATTERN (fix 3: background work): a blocking SMTP conversation inside the report
        # request, on the event loop (after: a Celery task with retries).
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise ApiError(502, f"SMTP delivery failed: {exc.__class__.__name__}") from exc
    return {"status": "sent", "to": user["email"]}
