"""Internal report routes (core_api is the only caller): parse, call the service, return."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Path, Query, Response

from jobs_service.deps import CacheDep, QueueDep, ReadSessionDep, SessionDep, SettingsDep
from jobs_service.reports import service
from jobs_service.reports.schemas import ReportCreate, ReportPage, ReportRead, ReportsSummary

router = APIRouter(prefix="/internal/users/{user_id}", tags=["reports"])

UserId = Annotated[int, Path(ge=1, le=2**63 - 1)]
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=100)
]


@router.post("/reports", status_code=202, response_model=ReportRead)
async def create_report(
    user_id: UserId,
    payload: ReportCreate,
    response: Response,
    session: SessionDep,
    cache: CacheDep,
    queue: QueueDep,
    idempotency_key: IdempotencyKey = None,
) -> ReportRead:
    report, replayed = await service.create_report(
        session=session,
        cache=cache,
        queue=queue,
        user_id=user_id,
        payload=payload,
        idempotency_key=idempotency_key,
    )
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return report


@router.get("/reports", response_model=ReportPage)
async def list_reports(
    user_id: UserId,
    session: ReadSessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ReportPage:
    items = await service.list_reports(session=session, user_id=user_id, limit=limit)
    return ReportPage(items=items)


@router.get("/reports-summary", response_model=ReportsSummary)
async def reports_summary(
    user_id: UserId, session: ReadSessionDep, cache: CacheDep, settings: SettingsDep
) -> ReportsSummary:
    return await service.summarize(
        session=session, cache=cache, user_id=user_id, ttl_s=settings.summary_ttl_s
    )


@router.get("/reports/{report_id}", response_model=ReportRead)
async def get_report(user_id: UserId, report_id: UUID, session: ReadSessionDep) -> ReportRead:
    return await service.get_report(session=session, user_id=user_id, report_id=report_id)


@router.get(
    "/reports/{report_id}/file",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def get_report_file(user_id: UserId, report_id: UUID, session: ReadSessionDep) -> Response:
    content = await service.get_file(session=session, user_id=user_id, report_id=report_id)
    return Response(content, media_type="application/pdf")
