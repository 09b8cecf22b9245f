"""The render job: claim a report, build its PDF from the user's activity, finish it.

Every step is safe to run again (a message comes back when its worker dies, and the sweeper
publishes one again when the broker lost it): the claim accepts a `running` report, the file is
stored once, and the finish step locks the row, so of two runs of one job exactly one records
`report.done`, marks the report done and owes deliveries.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from service_common.http import PeerError

from jobs_service.pdf import render_activity_pdf
from jobs_service.pipeline import peers, repository
from jobs_service.reports import repository as reports_repository
from jobs_service.reports.queue import Channel
from jobs_service.reports.service import invalidate_summary
from jobs_service.runtime import Resources

log = logging.getLogger(__name__)

DONE_EVENT = "report.done"


async def render_report(resources: Resources, *, report_id: UUID) -> list[Channel]:
    """Render, store and finish a report; return the channels it still owes a delivery on."""
    async with resources.db.sessions() as session:
        job = await repository.claim_report(session, report_id=report_id)
        await session.commit()
        if job is None:
            # Done already (a re-delivered message) or failed or gone: at most deliveries remain.
            found = await repository.report_status(session, report_id=report_id)
            if found is None or found[1] != "done":
                return []
            return await repository.undelivered_channels(session, report_id=report_id)
    user_id, days = job["user_id"], job["days"]
    await invalidate_summary(cache=resources.cache, user_id=user_id)

    me = await peers.get_me(resources.users, user_id=user_id)
    async with resources.db.sessions() as session:
        stored = await repository.has_file(session, report_id=report_id)
    if not stored:
        content = await _render_pdf(resources, me=me, days=days)
        async with resources.db.sessions() as session:
            await repository.store_file(session, report_id=report_id, content=content)
            await session.commit()

    async with resources.db.sessions() as session:
        # The row lock makes the finish step happen once even when two runs reach it together.
        found = await repository.report_status(session, report_id=report_id, lock=True)
        if found is not None and found[1] == "running":
            await _record_done_event(resources, user_id=user_id, report_id=report_id, days=days)
            await repository.mark_done(session, report_id=report_id)
            await repository.add_deliveries(
                session, report_id=report_id, channels=wanted_channels(me)
            )
        channels = await repository.undelivered_channels(session, report_id=report_id)
        await session.commit()
    await invalidate_summary(cache=resources.cache, user_id=user_id)
    return channels


async def _render_pdf(resources: Resources, *, me: dict[str, Any], days: int) -> bytes:
    now = datetime.now(UTC)
    events = await peers.recent_events(
        resources.users, user_id=me["id"], since=now - timedelta(days=days)
    )
    # CPU-bound, but this loop serves this one task only; nothing else waits on it.
    return render_activity_pdf(user=me, events=events, days=days, generated_at=now)


async def _record_done_event(
    resources: Resources, *, user_id: int, report_id: UUID, days: int
) -> None:
    payload = {"report_id": str(report_id), "days": days}
    try:
        await peers.record_event(resources.users, user_id=user_id, kind=DONE_EVENT, payload=payload)
    except PeerError as exc:
        # The user service refused the event itself; the report is still good.
        log.warning("report %s: %s event refused: %s", report_id, DONE_EVENT, exc.detail)


def wanted_channels(me: dict[str, Any]) -> list[Channel]:
    """Return the deliveries the user's prefs ask for."""
    prefs = me.get("prefs") or {}
    channels: list[Channel] = []
    if prefs.get("email_notifications"):
        channels.append("email")
    if prefs.get("webhook_url"):
        channels.append("webhook")
    return channels


async def fail_report(resources: Resources, *, report_id: UUID, error: str) -> None:
    """Mark a report failed (if it has not finished) and drop its owner's cached summary."""
    async with resources.db.sessions() as session:
        user_id = await reports_repository.mark_failed(session, report_id=report_id, error=error)
        await session.commit()
    if user_id is not None:
        await invalidate_summary(cache=resources.cache, user_id=user_id)
