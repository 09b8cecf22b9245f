"""Shapes of reports on the internal API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

ReportKind = Literal["activity_pdf"]
ReportStatus = Literal["queued", "running", "done", "failed"]
PENDING_STATUSES: tuple[ReportStatus, ...] = ("queued", "running")

RECENT_REPORTS = 5


class ReportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ReportKind
    days: int = Field(ge=1, le=90)


class ReportRead(BaseModel):
    id: UUID
    kind: ReportKind
    days: int = Field(ge=1, le=90)
    status: ReportStatus
    created_at: datetime
    completed_at: datetime | None


class ReportPage(BaseModel):
    items: list[ReportRead] = Field(max_length=100)


class ReportsSummary(BaseModel):
    reports_total: int = Field(ge=0)
    reports_pending: int = Field(ge=0)
    recent_reports: list[ReportRead] = Field(max_length=RECENT_REPORTS)
