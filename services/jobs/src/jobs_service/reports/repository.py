"""Every query on jobs.reports and jobs.report_files that the API runs."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from jobs_service.reports.schemas import RECENT_REPORTS

Row = dict[str, Any]

_REPORT_COLUMNS = "id, kind, days, status, created_at, completed_at"

_INSERT = text(
    f"""
    INSERT INTO jobs.reports (id, user_id, kind, days, idempotency_key, request_hash)
    VALUES (:id, :user_id, :kind, :days, :idempotency_key, :request_hash)
    ON CONFLICT (user_id, idempotency_key) DO NOTHING
    RETURNING {_REPORT_COLUMNS}
    """
)
_BY_IDEMPOTENCY_KEY = text(
    f"""
    SELECT {_REPORT_COLUMNS}, request_hash FROM jobs.reports
    WHERE user_id = :user_id AND idempotency_key = :idempotency_key
    """
)
_LIST = text(
    f"""
    SELECT {_REPORT_COLUMNS} FROM jobs.reports
    WHERE user_id = :user_id
    ORDER BY created_at DESC, id DESC
    LIMIT :limit
    """
)
_GET = text(f"SELECT {_REPORT_COLUMNS} FROM jobs.reports WHERE id = :id AND user_id = :user_id")
# Window aggregates are computed over all of the user's rows before LIMIT keeps the newest, so
# the totals and the recent list come back in one statement.
_SUMMARY = text(
    f"""
    SELECT {_REPORT_COLUMNS},
           count(*) OVER () AS reports_total,
           count(*) FILTER (WHERE status IN ('queued', 'running')) OVER () AS reports_pending
    FROM jobs.reports
    WHERE user_id = :user_id
    ORDER BY created_at DESC, id DESC
    LIMIT {RECENT_REPORTS}
    """
)
_FILE = text(
    """
    SELECT r.status, f.content
    FROM jobs.reports AS r LEFT JOIN jobs.report_files AS f ON f.report_id = r.id
    WHERE r.id = :id AND r.user_id = :user_id
    """
)
_MARK_FAILED = text(
    """
    UPDATE jobs.reports SET status = 'failed', error = :error, completed_at = now()
    WHERE id = :id AND status IN ('queued', 'running')
    RETURNING user_id
    """
)


async def insert_report(
    session: AsyncSession,
    *,
    report_id: UUID,
    user_id: int,
    kind: str,
    days: int,
    idempotency_key: str | None,
    request_hash: str | None,
) -> Row | None:
    """Insert a queued report; return it, or None when the idempotency key is taken."""
    result = await session.execute(
        _INSERT,
        {
            "id": report_id,
            "user_id": user_id,
            "kind": kind,
            "days": days,
            "idempotency_key": idempotency_key,
            "request_hash": request_hash,
        },
    )
    row = result.mappings().first()
    return dict(row) if row is not None else None


async def get_by_idempotency_key(
    session: AsyncSession, *, user_id: int, idempotency_key: str
) -> Row | None:
    """Return the user's report made under this key, with its request_hash."""
    result = await session.execute(
        _BY_IDEMPOTENCY_KEY, {"user_id": user_id, "idempotency_key": idempotency_key}
    )
    row = result.mappings().first()
    return dict(row) if row is not None else None


async def list_reports(session: AsyncSession, *, user_id: int, limit: int) -> list[Row]:
    """Return the user's newest reports."""
    result = await session.execute(_LIST, {"user_id": user_id, "limit": limit})
    return [dict(row) for row in result.mappings()]


async def get_report(session: AsyncSession, *, user_id: int, report_id: UUID) -> Row | None:
    """Return one report if it is the user's."""
    result = await session.execute(_GET, {"id": report_id, "user_id": user_id})
    row = result.mappings().first()
    return dict(row) if row is not None else None


async def summarize(session: AsyncSession, *, user_id: int) -> tuple[int, int, list[Row]]:
    """Return the user's report total, pending count and newest reports."""
    result = await session.execute(_SUMMARY, {"user_id": user_id})
    rows = [dict(row) for row in result.mappings()]
    if not rows:
        return 0, 0, []
    total, pending = rows[0]["reports_total"], rows[0]["reports_pending"]
    for row in rows:
        del row["reports_total"], row["reports_pending"]
    return total, pending, rows


async def get_file(
    session: AsyncSession, *, user_id: int, report_id: UUID
) -> tuple[str, bytes | None] | None:
    """Return the status and PDF of one of the user's reports (None: not the user's)."""
    result = await session.execute(_FILE, {"id": report_id, "user_id": user_id})
    row = result.first()
    return (row.status, row.content) if row is not None else None


async def mark_failed(session: AsyncSession, *, report_id: UUID, error: str) -> int | None:
    """Fail a report that has not finished; return its user id, or None if it had."""
    result = await session.execute(_MARK_FAILED, {"id": report_id, "error": error[:1000]})
    user_id: int | None = result.scalar_one_or_none()
    return user_id
