"""What goes to third parties: the report email and the signed webhook body."""

from __future__ import annotations

import hashlib
import hmac
import smtplib
from datetime import datetime
from email.message import EmailMessage
from uuid import UUID

import orjson

from jobs_service.settings import SMTPSettings

EMAIL_SUBJECT = "Your activity report is ready"
WEBHOOK_EVENT = "report.done"


def report_email(*, sender: str, to: str, report_id: UUID, days: int, pdf: bytes) -> EmailMessage:
    """Build the email that carries a report's PDF."""
    message = EmailMessage()
    message["Subject"] = EMAIL_SUBJECT
    message["From"] = sender
    message["To"] = to
    # A stable Message-ID lets a mail system drop the copy a re-delivered job might send.
    message["Message-ID"] = f"<report-{report_id}@refactor-lab.test>"
    message.set_content(
        f"Your activity report {report_id} covering the last {days} "
        f"day{'s' if days != 1 else ''} is attached.\n"
    )
    message.add_attachment(
        pdf, maintype="application", subtype="pdf", filename=f"activity-report-{report_id}.pdf"
    )
    return message


def send_email(message: EmailMessage, *, settings: SMTPSettings) -> None:
    """Hand a message to the SMTP server (blocking: call it from a worker thread)."""
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s) as smtp:
        smtp.send_message(message)


def webhook_body(
    *, report_id: UUID, user_id: int, kind: str, days: int, completed_at: datetime | None
) -> bytes:
    """Return the raw JSON body of the report.done webhook (signed as sent)."""
    return orjson.dumps(
        {
            "event": WEBHOOK_EVENT,
            "report_id": str(report_id),
            "user_id": user_id,
            "kind": kind,
            "days": days,
            "completed_at": completed_at.isoformat() if completed_at is not None else None,
        }
    )


def signature(secret: str, body: bytes) -> str:
    """Return the X-Signature value: sha256=<hex HMAC-SHA256 of the raw body>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
