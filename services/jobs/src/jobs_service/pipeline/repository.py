"""Every query the worker runs: claiming and finishing reports, files, guarded deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from jobs_service.reports.queue import Channel

Row = dict[str, Any]

# A re-delivered message finds its report `running` (its first worker died), so `running` is
# claimable too; `done` and `failed` are final.
_CLAIM = text(
    """
    UPDATE jobs.reports
    SET status = 'running', started_at = coalesce(started_at, now()), touched_at = now()
    WHERE id = :id AND status IN ('queued', 'running')
    RETURNING user_id, kind, days, status
    """
)
_STATUS = text("SELECT user_id, status FROM jobs.reports WHERE id = :id")
_LOCK_STATUS = text("SELECT user_id, status FROM jobs.reports WHERE id = :id FOR UPDATE")
_HAS_FILE = text("SELECT true FROM jobs.report_files WHERE report_id = :id")
_STORE_FILE = text(
    """
    INSERT INTO jobs.report_files (report_id, content) VALUES (:id, :content)
    ON CONFLICT (report_id) DO NOTHING
    """
)
_MARK_DONE = text(
    """
    UPDATE jobs.reports SET status = 'done', completed_at = now(), error = NULL
    WHERE id = :id AND status = 'running'
    RETURNING completed_at
    """
)
_ADD_DELIVERIES = text(
    """
    INSERT INTO jobs.deliveries (report_id, channel)
    SELECT :id, channel FROM unnest(CAST(:channels AS text[])) AS channel
    ON CONFLICT (report_id, channel) DO NOTHING
    """
)
# Owed: neither delivered nor given up.
_UNDELIVERED = text(
    """
    SELECT channel FROM jobs.deliveries
    WHERE report_id = :id AND delivered_at IS NULL AND given_up_at IS NULL
    """
)
# SKIP LOCKED: a row locked by another worker is being delivered right now; that worker either
# finishes or dies (its lock goes with its connection) and the message comes back to someone.
_LOCK_DELIVERY = text(
    """
    SELECT r.user_id, r.kind, r.days, r.completed_at, d.channel, d.attempts
    FROM jobs.deliveries AS d JOIN jobs.reports AS r ON r.id = d.report_id
    WHERE d.report_id = :id AND d.channel = :channel
      AND d.delivered_at IS NULL AND d.given_up_at IS NULL AND r.status = 'done'
    FOR UPDATE OF d SKIP LOCKED
    """
)
_RECORD_ATTEMPT = text(
    """
    UPDATE jobs.deliveries
    SET attempts = attempts + 1,
        delivered_at = CASE WHEN CAST(:error AS text) IS NULL THEN now() ELSE delivered_at END,
        given_up_at = CASE WHEN :give_up THEN now() ELSE given_up_at END,
        last_error = :error,
        touched_at = now()
    WHERE report_id = :id AND channel = :channel
    """
)
_TOUCH_DELIVERY = text(
    "UPDATE jobs.deliveries SET touched_at = now() WHERE report_id = :id AND channel = :channel"
)
_GIVE_UP = text(
    """
    UPDATE jobs.deliveries SET given_up_at = now(), last_error = :error, touched_at = now()
    WHERE report_id = :id AND channel = :channel
    """
)
_FILE_CONTENT = text("SELECT content FROM jobs.report_files WHERE report_id = :id")


async def claim_report(session: AsyncSession, *, report_id: UUID) -> Row | None:
    """Mark a report running; return it, or None when it is missing, done or failed."""
    row = (await session.execute(_CLAIM, {"id": report_id})).mappings().first()
    return dict(row) if row is not None else None


async def report_status(
    session: AsyncSession, *, report_id: UUID, lock: bool = False
) -> tuple[int, str] | None:
    """Return a report's user id and status, row-locked until commit when asked."""
    row = (await session.execute(_LOCK_STATUS if lock else _STATUS, {"id": report_id})).first()
    return (row.user_id, row.status) if row is not None else None


async def has_file(session: AsyncSession, *, report_id: UUID) -> bool:
    """Return whether the report's PDF is stored."""
    return (await session.scalar(_HAS_FILE, {"id": report_id})) is not None


async def store_file(session: AsyncSession, *, report_id: UUID, content: bytes) -> None:
    """Store the PDF unless a concurrent run of the same job stored it first."""
    await session.execute(_STORE_FILE, {"id": report_id, "content": content})


async def mark_done(session: AsyncSession, *, report_id: UUID) -> datetime | None:
    """Finish a running report; return its completion time, or None if it was not running."""
    completed_at: datetime | None = await session.scalar(_MARK_DONE, {"id": report_id})
    return completed_at


async def add_deliveries(
    session: AsyncSession, *, report_id: UUID, channels: Sequence[Channel]
) -> None:
    """Record the deliveries a report owes (once: the rows are the guard against repeats)."""
    if channels:
        await session.execute(_ADD_DELIVERIES, {"id": report_id, "channels": list(channels)})


async def undelivered_channels(session: AsyncSession, *, report_id: UUID) -> list[Channel]:
    """Return the channels the report still owes a delivery on."""
    result = await session.execute(_UNDELIVERED, {"id": report_id})
    return list(result.scalars())


async def lock_delivery(session: AsyncSession, *, report_id: UUID, channel: Channel) -> Row | None:
    """Lock an owed delivery and return what it needs; None when nothing is to be sent now."""
    result = await session.execute(_LOCK_DELIVERY, {"id": report_id, "channel": channel})
    row = result.mappings().first()
    return dict(row) if row is not None else None


async def record_attempt(
    session: AsyncSession,
    *,
    report_id: UUID,
    channel: Channel,
    error: str | None = None,
    give_up: bool = False,
) -> None:
    """Count one delivery attempt: delivered without an error, else failed (and maybe final)."""
    params = {
        "id": report_id,
        "channel": channel,
        "error": error[:500] if error is not None else None,
        "give_up": give_up,
    }
    await session.execute(_RECORD_ATTEMPT, params)


async def touch_delivery(session: AsyncSession, *, report_id: UUID, channel: Channel) -> None:
    """Record that a delivery's job is alive (retrying), so the sweeper leaves it alone."""
    await session.execute(_TOUCH_DELIVERY, {"id": report_id, "channel": channel})


async def give_up(session: AsyncSession, *, report_id: UUID, channel: Channel, error: str) -> None:
    """End a delivery that asking again will not make succeed."""
    await session.execute(_GIVE_UP, {"id": report_id, "channel": channel, "error": error[:500]})


async def file_content(session: AsyncSession, *, report_id: UUID) -> bytes | None:
    """Return the stored PDF."""
    content: bytes | None = await session.scalar(_FILE_CONTENT, {"id": report_id})
    return content
