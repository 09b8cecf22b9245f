"""Bodies of the public user routes: what may come in, and the documented shapes that go out.

Read models document the OpenAPI schema only: the bodies are the user service's JSON, relayed
or composed without a second validation pass (see router.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from core_api.reports.schemas import ReportRead

DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Bio = Annotated[str, Field(max_length=500)]
HttpUrl = Annotated[str, StringConstraints(max_length=2048, pattern=r"^https?://[^\s]+$")]
Locale = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]
Theme = Literal["light", "dark", "system"]


class ProfileUpdate(BaseModel):
    """Only the fields sent are changed; `avatar_url: null` removes the avatar."""

    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName | None = None
    bio: Bio | None = None
    avatar_url: HttpUrl | None = None

    @field_validator("display_name", "bio", mode="before")
    @classmethod
    def _omitted_not_null(cls, value: object) -> object:
        # Validators do not run on defaults: this refuses only an explicit null.
        if value is None:
            raise ValueError("may be left out, not null")
        return value


class PrefsUpdate(BaseModel):
    """The whole preferences record (PUT): a field left out takes its default."""

    model_config = ConfigDict(extra="forbid")

    theme: Theme = "system"
    locale: Locale = "en"
    email_notifications: bool = True
    webhook_url: HttpUrl | None = None


class PrefsRead(BaseModel):
    theme: Theme
    locale: str
    email_notifications: bool
    webhook_url: str | None


class UserRead(BaseModel):
    id: int
    email: str
    display_name: str
    created_at: datetime


class MeRead(UserRead):
    bio: str
    avatar_url: str | None
    prefs: PrefsRead


class PublicProfileRead(BaseModel):
    id: int
    display_name: str
    bio: str
    avatar_url: str | None


class ActorRead(BaseModel):
    id: int
    display_name: str


class EventSummaryRead(BaseModel):
    id: int
    kind: str
    created_at: datetime
    actor: ActorRead


class EventRead(EventSummaryRead):
    payload: dict[str, Any]


class EventPage(BaseModel):
    items: list[EventRead]
    next_cursor: str | None


class DashboardStats(BaseModel):
    events_7d: int
    reports_total: int
    reports_pending: int


class DashboardRead(BaseModel):
    user: UserRead
    recent_events: list[EventSummaryRead] = Field(max_length=10)
    stats: DashboardStats
    recent_reports: list[ReportRead] = Field(max_length=5)
