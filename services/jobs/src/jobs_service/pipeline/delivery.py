"""Deliver a finished report to third parties, each at most once per report and channel.

A delivery is owed when its jobs.deliveries row exists without delivered_at. A run locks that
row for the length of the send and marks it delivered in the same transaction, so a second run of
the job (a re-delivered message, a manual re-run) finds nothing owed, or waits nothing: it skips
a row another worker holds. The one window left is a worker dying after the third party accepted
but before the commit; the re-delivered job then sends again, which is why the email carries a
stable Message-ID and the webhook an X-Webhook-Id for the receiver to dedupe on.
"""

from __future__ import annotations

import asyncio
import logging
from uuid import UUID

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from jobs_service.pipeline import peers, repository
from jobs_service.pipeline.messages import report_email, send_email, signature, webhook_body
from jobs_service.pipeline.repository import Channel
from jobs_service.runtime import Resources

log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """A third party did not take a delivery this time; the task retries it with backoff."""


async def deliver_email(resources: Resources, *, report_id: UUID) -> bool:
    """Email the report's PDF to its owner if still owed; return whether this run sent it."""
    async with resources.db.sessions() as session:
        owed = await repository.lock_delivery(session, report_id=report_id, channel="email")
        if owed is None:
            return False
        me = await peers.get_me(resources.users, user_id=owed["user_id"])
        pdf = await repository.file_content(session, report_id=report_id)
        if pdf is None:
            raise RuntimeError(f"report {report_id} is done without a file")
        message = report_email(
            sender=resources.settings.smtp.sender,
            to=me["email"],
            report_id=report_id,
            days=owed["days"],
            pdf=pdf,
        )
        try:
            await asyncio.to_thread(send_email, message, settings=resources.settings.smtp)
        except OSError as exc:  # smtplib's errors are OSErrors too
            await _count_failure(session, report_id=report_id, channel="email")
            raise DeliveryFailed(f"SMTP server did not take the message: {exc!r}") from exc
        await repository.record_attempt(
            session, report_id=report_id, channel="email", delivered=True
        )
        await session.commit()
    return True


async def deliver_webhook(resources: Resources, *, report_id: UUID) -> bool:
    """POST the signed report.done webhook if still owed; return whether this run delivered it."""
    async with resources.db.sessions() as session:
        owed = await repository.lock_delivery(session, report_id=report_id, channel="webhook")
        if owed is None:
            return False
        me = await peers.get_me(resources.users, user_id=owed["user_id"])
        url = (me.get("prefs") or {}).get("webhook_url")
        if not url:
            log.info("report %s: webhook_url was removed; nothing to deliver", report_id)
            return False
        body = webhook_body(
            report_id=report_id,
            user_id=owed["user_id"],
            kind=owed["kind"],
            days=owed["days"],
            completed_at=owed["completed_at"],
        )
        secret = resources.settings.webhook.secret.get_secret_value()
        headers = {
            "content-type": "application/json",
            "x-signature": signature(secret, body),
            "x-webhook-id": str(report_id),
        }
        try:
            response = await resources.webhooks.post(url, content=body, headers=headers)
        except httpx.TransportError as exc:  # timeouts included
            await _count_failure(session, report_id=report_id, channel="webhook")
            raise DeliveryFailed(f"webhook endpoint unreachable: {exc!r}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            await _count_failure(session, report_id=report_id, channel="webhook")
            raise DeliveryFailed(f"webhook endpoint answered {response.status_code}")
        delivered = response.is_success
        if not delivered:
            # A 3xx/4xx will not change by asking again; the attempt is recorded and left.
            log.warning("report %s: webhook refused with %s", report_id, response.status_code)
        await repository.record_attempt(
            session, report_id=report_id, channel="webhook", delivered=delivered
        )
        await session.commit()
    return delivered


async def _count_failure(session: AsyncSession, *, report_id: UUID, channel: Channel) -> None:
    await repository.record_attempt(session, report_id=report_id, channel=channel, delivered=False)
    await session.commit()
