"""Every query the sweeper runs: owed jobs that stalled, claimed once; owed jobs overdue, ended.

A stalled job is owed and has not moved for :age seconds. Claiming one moves it (touched_at), so
of several sweepers one publishes it, and none again for :age seconds. SKIP LOCKED leaves alone a
row a worker holds: that job is moving.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from jobs_service.reports.queue import Channel

_OWED_REPORT = "status IN ('queued', 'running')"
_OWED_DELIVERY = "delivered_at IS NULL AND given_up_at IS NULL"
_STALE = "touched_at < now() - make_interval(secs => :age)"
_ANY_STALLED = text(
    f"""
    SELECT EXISTS (SELECT FROM jobs.reports WHERE {_OWED_REPORT} AND {_STALE})
        OR EXISTS (SELECT FROM jobs.deliveries WHERE {_OWED_DELIVERY} AND {_STALE})
    """
)
_CLAIM_STALLED_REPORTS = text(
    f"""
    UPDATE jobs.reports SET touched_at = now()
    WHERE id IN (
        SELECT id FROM jobs.reports WHERE {_OWED_REPORT} AND {_STALE}
        ORDER BY touched_at LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    RETURNING id
    """
)
_CLAIM_STALLED_DELIVERIES = text(
    f"""
    UPDATE jobs.deliveries AS d SET touched_at = now()
    FROM (
        SELECT report_id, channel FROM jobs.deliveries WHERE {_OWED_DELIVERY} AND {_STALE}
        ORDER BY touched_at LIMIT :limit
        FOR UPDATE SKIP LOCKED
    ) AS stalled
    WHERE d.report_id = stalled.report_id AND d.channel = stalled.channel
    RETURNING d.report_id, d.channel
    """
)


# Owed for longer than :age since it was asked for: ended, so that nothing is owed forever.
_FAIL_OVERDUE_REPORTS = text(
    f"""
    UPDATE jobs.reports SET status = 'failed', completed_at = now(), error = :error
    WHERE id IN (
        SELECT id FROM jobs.reports
        WHERE {_OWED_REPORT} AND created_at < now() - make_interval(secs => :age)
        FOR UPDATE SKIP LOCKED
    )
    RETURNING user_id
    """
)
_GIVE_UP_OVERDUE_DELIVERIES = text(
    """
    UPDATE jobs.deliveries AS d SET given_up_at = now(), last_error = :error, touched_at = now()
    FROM (
        SELECT d.report_id, d.channel
        FROM jobs.deliveries AS d JOIN jobs.reports AS r ON r.id = d.report_id
        WHERE d.delivered_at IS NULL AND d.given_up_at IS NULL
          AND r.completed_at < now() - make_interval(secs => :age)
        FOR UPDATE OF d SKIP LOCKED
    ) AS overdue
    WHERE d.report_id = overdue.report_id AND d.channel = overdue.channel
    RETURNING d.report_id, d.channel
    """
)


async def end_overdue(
    session: AsyncSession, *, older_than_s: float
) -> tuple[list[int], list[tuple[UUID, Channel]]]:
    """Fail reports and give up deliveries owed this long; return the users and deliveries."""
    error = f"not finished within {older_than_s:.0f} s"
    params = {"age": older_than_s, "error": error}
    users = list((await session.execute(_FAIL_OVERDUE_REPORTS, params)).scalars())
    deliveries = await session.execute(_GIVE_UP_OVERDUE_DELIVERIES, params)
    return users, [(row.report_id, row.channel) for row in deliveries]


async def any_stalled(session: AsyncSession, *, older_than_s: float) -> bool:
    """Return whether any owed render or delivery has not moved for this long."""
    return bool(await session.scalar(_ANY_STALLED, {"age": older_than_s}))


async def claim_stalled_reports(
    session: AsyncSession, *, older_than_s: float, limit: int
) -> list[UUID]:
    """Mark stalled reports as moved now and return their ids."""
    result = await session.execute(_CLAIM_STALLED_REPORTS, {"age": older_than_s, "limit": limit})
    return list(result.scalars())


async def claim_stalled_deliveries(
    session: AsyncSession, *, older_than_s: float, limit: int
) -> list[tuple[UUID, Channel]]:
    """Mark stalled deliveries as moved now and return their (report id, channel) pairs."""
    params = {"age": older_than_s, "limit": limit}
    result = await session.execute(_CLAIM_STALLED_DELIVERIES, params)
    return [(row.report_id, row.channel) for row in result]
