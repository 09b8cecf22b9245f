"""Deliver a finished report to third parties, each at most once per report and channel.

A delivery is owed while its jobs.deliveries row is neither delivered nor given up. A run locks
that row for the length of the send and records the outcome in the same transaction, so a second
run of the job (a re-delivered message, one the sweeper published again, a manual re-run) finds
nothing owed, or waits nothing: it skips a row another worker holds. The one window left is a
worker dying after the third party accepted but before the commit; the re-delivered job then
sends again, which is why the email carries a stable Message-ID and the webhook an X-Webhook-Id
for the receiver to dedupe on.

A delivery is given up, and never sent later, when asking again cannot help: the endpoint
refused it (3xx/4xx but 429), it failed `max_attempts` times, the webhook_url was removed or is
not a URL, the user service no longer knows the user (404, 410), or the report has no file. A
failure of our own user service is not the third party's: the task retries it, then the sweeper
does, until `give_up_after_s`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from uuid import UUID

import httpx
from service_common.http import PeerError
from sqlalchemy.ext.asyncio import AsyncSession

from jobs_service.pipeline import peers, repository
from jobs_service.pipeline.messages import report_email, send_email, signature, webhook_body
from jobs_service.pipeline.repository import Row
from jobs_service.reports.queue import Channel
from jobs_service.runtime import Resources

log = logging.getLogger(__name__)

USER_GONE = (404, 410)  # the user service's answers that mean the user will not come back


class DeliveryFailed(Exception):
    """A third party did not take a delivery this time; the task retries it with backoff."""


async def deliver_email(resources: Resources, *, report_id: UUID) -> bool:
    """Email the report's PDF to its owner if still owed; return whether this run sent it."""
    async with resources.db.sessions() as session:
        owed = await repository.lock_delivery(session, report_id=report_id, channel="email")
        if owed is None:
            return False
        me = await _owner(resources, session, owed=owed, report_id=report_id, channel="email")
        if me is None:
            return False
        pdf = await repository.file_content(session, report_id=report_id)
        if pdf is None:  # render stores the file before it marks the report done: a bug
            await _give_up(session, report_id=report_id, channel="email", error="no file")
            return False
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
            error = f"SMTP server did not take the message: {exc!r}"
            await _failed_attempt(resources, session, owed=owed, report_id=report_id, error=error)
            return False
        await repository.record_attempt(session, report_id=report_id, channel="email")
        await session.commit()
    return True


async def deliver_webhook(resources: Resources, *, report_id: UUID) -> bool:
    """POST the signed report.done webhook if still owed; return whether this run delivered it."""
    async with resources.db.sessions() as session:
        owed = await repository.lock_delivery(session, report_id=report_id, channel="webhook")
        if owed is None:
            return False
        me = await _owner(resources, session, owed=owed, report_id=report_id, channel="webhook")
        if me is None:
            return False
        url = (me.get("prefs") or {}).get("webhook_url")
        if not url:
            await _give_up(session, report_id=report_id, channel="webhook", error="no webhook_url")
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
        except httpx.InvalidURL as exc:
            await _give_up(session, report_id=report_id, channel="webhook", error=repr(exc))
            return False
        except httpx.TransportError as exc:  # timeouts included
            error = f"webhook endpoint unreachable: {exc!r}"
            await _failed_attempt(resources, session, owed=owed, report_id=report_id, error=error)
            return False
        if response.status_code >= 500 or response.status_code == 429:
            error = f"webhook endpoint answered {response.status_code}"
            await _failed_attempt(resources, session, owed=owed, report_id=report_id, error=error)
            return False
        if not response.is_success:
            # A 3xx/4xx will not change by asking again: the attempt is recorded, and final.
            error = f"webhook endpoint refused it with {response.status_code}"
            await repository.record_attempt(
                session, report_id=report_id, channel="webhook", error=error, give_up=True
            )
            await session.commit()
            log.warning("report %s: %s; given up", report_id, error)
            return False
        await repository.record_attempt(session, report_id=report_id, channel="webhook")
        await session.commit()
    return True


async def _owner(
    resources: Resources, session: AsyncSession, *, owed: Row, report_id: UUID, channel: Channel
) -> dict[str, Any] | None:
    """Return the report owner's profile and prefs; None (and given up) when the user is gone."""
    try:
        return await peers.get_me(resources.users, user_id=owed["user_id"])
    except Exception as exc:
        if isinstance(exc, PeerError) and exc.status_code in USER_GONE:
            await _give_up(session, report_id=report_id, channel=channel, error=exc.detail)
            return None
        await _touch(session, report_id=report_id, channel=channel)
        raise


async def _touch(session: AsyncSession, *, report_id: UUID, channel: Channel) -> None:
    # The job is alive, retrying on its own: the sweeper must not start a second one beside it.
    await repository.touch_delivery(session, report_id=report_id, channel=channel)
    await session.commit()


async def _give_up(session: AsyncSession, *, report_id: UUID, channel: Channel, error: str) -> None:
    await repository.give_up(session, report_id=report_id, channel=channel, error=error)
    await session.commit()
    log.warning("report %s: %s delivery given up: %s", report_id, channel, error)


async def _failed_attempt(
    resources: Resources, session: AsyncSession, *, owed: Row, report_id: UUID, error: str
) -> None:
    """Record a failed attempt; raise DeliveryFailed for a retry unless it was the last one."""
    channel: Channel = owed["channel"]
    last = owed["attempts"] + 1 >= resources.settings.celery.max_attempts
    await repository.record_attempt(
        session, report_id=report_id, channel=channel, error=error, give_up=last
    )
    await session.commit()
    if not last:
        raise DeliveryFailed(error)
    log.error(
        "report %s: %s delivery given up after %d attempts: %s",
        report_id,
        channel,
        owed["attempts"] + 1,
        error,
    )
