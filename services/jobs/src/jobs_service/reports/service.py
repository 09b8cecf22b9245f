"""Rules of report requests: idempotent creation, enqueue after commit, owner-only reads."""

from __future__ import annotations

import hashlib
import logging
from typing import Any
from uuid import UUID, uuid4

import orjson
from service_common.cache import Cache
from service_common.errors import Conflict, NotFound, ServiceUnavailable, Unprocessable
from service_common.views import REPORTS_SUMMARY
from sqlalchemy.ext.asyncio import AsyncSession

from jobs_service.reports import repository
from jobs_service.reports.queue import ReportQueue
from jobs_service.reports.schemas import ReportCreate, ReportRead, ReportsSummary

log = logging.getLogger(__name__)

CACHE_PREFIX = "jobs"
# A view (service_common.views): core_api reads the cached summary directly.
SUMMARY_NAMESPACE = REPORTS_SUMMARY


def request_hash(payload: ReportCreate) -> str:
    """Return the sha256 of the canonical JSON of a request body."""
    canonical = orjson.dumps(payload.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


async def invalidate_summary(*, cache: Cache, user_id: int) -> None:
    """Drop the user's cached summary after any change to their reports."""
    await cache.invalidate(SUMMARY_NAMESPACE, user_id)


async def create_report(
    *,
    session: AsyncSession,
    cache: Cache,
    queue: ReportQueue,
    user_id: int,
    payload: ReportCreate,
    idempotency_key: str | None,
) -> tuple[ReportRead, bool]:
    """Create and enqueue a report; return it and whether it is a replay of an earlier request."""
    digest = request_hash(payload) if idempotency_key is not None else None
    report_id = uuid4()
    row = await repository.insert_report(
        session,
        report_id=report_id,
        user_id=user_id,
        kind=payload.kind,
        days=payload.days,
        idempotency_key=idempotency_key,
        request_hash=digest,
    )
    if row is None:
        assert idempotency_key is not None  # only a key can conflict
        return await _replay(session, user_id=user_id, key=idempotency_key, digest=digest), True

    # Commit before publishing: a worker that takes the job at once must find the row.
    await session.commit()
    await invalidate_summary(cache=cache, user_id=user_id)
    try:
        await queue.enqueue_render(report_id)
    except Exception as exc:  # noqa: BLE001 - whatever the broker raised, the job is not queued
        # Nothing would ever pick a queued row up, so it must not look pending forever.
        log.error("report %s could not be queued: %r", report_id, exc)
        await repository.mark_failed(session, report_id=report_id, error="could not be queued")
        await session.commit()
        await invalidate_summary(cache=cache, user_id=user_id)
        raise ServiceUnavailable(
            f"the report queue is unavailable; report {report_id} was marked failed"
        ) from exc
    return ReportRead.model_validate(row), False


async def _replay(
    session: AsyncSession, *, user_id: int, key: str, digest: str | None
) -> ReportRead:
    # ON CONFLICT waited for the row's transaction to commit, so this read sees it.
    existing = await repository.get_by_idempotency_key(
        session, user_id=user_id, idempotency_key=key
    )
    if existing is None:
        raise Conflict("a concurrent request with this Idempotency-Key did not finish; retry")
    if existing.pop("request_hash") != digest:
        raise Unprocessable("Idempotency-Key reused with a different request")
    return ReportRead.model_validate(existing)


async def list_reports(*, session: AsyncSession, user_id: int, limit: int) -> list[ReportRead]:
    """Return the user's newest reports."""
    rows = await repository.list_reports(session, user_id=user_id, limit=limit)
    return [ReportRead.model_validate(row) for row in rows]


async def get_report(*, session: AsyncSession, user_id: int, report_id: UUID) -> ReportRead:
    """Return one of the user's reports; another user's is as missing as a made-up id."""
    row = await repository.get_report(session, user_id=user_id, report_id=report_id)
    if row is None:
        raise NotFound("report not found")
    return ReportRead.model_validate(row)


async def summarize(
    *, session: AsyncSession, cache: Cache, user_id: int, ttl_s: int
) -> ReportsSummary:
    """Return the user's report counts and newest reports, from the cache when warm."""

    async def load() -> dict[str, Any]:
        total, pending, rows = await repository.summarize(session, user_id=user_id)
        summary = ReportsSummary(
            reports_total=total,
            reports_pending=pending,
            recent_reports=[ReportRead.model_validate(row) for row in rows],
        )
        return summary.model_dump(mode="json")

    cached = await cache.get_or_load(SUMMARY_NAMESPACE, user_id, load, ttl_s=ttl_s)
    return ReportsSummary.model_validate(cached)


async def get_file(*, session: AsyncSession, user_id: int, report_id: UUID) -> bytes:
    """Return the PDF of one of the user's reports once it is done."""
    found = await repository.get_file(session, user_id=user_id, report_id=report_id)
    if found is None:
        raise NotFound("report not found")
    status, content = found
    if status != "done" or content is None:
        raise Conflict(f"report is {status}, not done")
    return content
