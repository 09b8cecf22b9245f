"""Bodies of the public report routes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

ReportStatus = Literal["queued", "running", "done", "failed"]


class ReportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["activity_pdf"]
    days: Annotated[int, Field(ge=1, le=90)]


class ReportRead(BaseModel):
    id: uuid.UUID
    kind: str
    days: int
    status: ReportStatus
    created_at: datetime
    completed_at: datetime | None


class ReportAccepted(BaseModel):
    id: uuid.UUID
    status: ReportStatus


class ReportList(BaseModel):
    items: list[ReportRead]
