"""Bodies of the activity event, feed and dashboard routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator

from user_service.schemas import UserId

MAX_PAYLOAD_BYTES = 4096
DEFAULT_PAGE = 20
MAX_PAGE = 100
RECENT_EVENTS = 10

EventKind = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z._]+$")]


class EventCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: EventKind
    actor_id: UserId
    payload: dict[str, Any] = Field(default_factory=dict)

    @field_validator("payload")
    @classmethod
    def _cap_size(cls, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            size = len(orjson.dumps(payload))
        except orjson.JSONEncodeError as exc:  # e.g. an integer beyond 64 bits
            raise ValueError(f"payload is not storable JSON: {exc}") from exc
        if size > MAX_PAYLOAD_BYTES:
            raise ValueError(f"payload is {size} bytes serialised; at most {MAX_PAYLOAD_BYTES}")
        return payload


class EventCreated(BaseModel):
    id: int


class ActorRead(BaseModel):
    id: int
    display_name: str | None  # None when the actor has no profile (any more)


class EventRead(BaseModel):
    id: int
    kind: str
    created_at: datetime
    actor: ActorRead
    payload: dict[str, Any]


class EventPage(BaseModel):
    items: list[EventRead]
    next_cursor: str | None


class DashboardUserRead(BaseModel):
    id: int
    email: str
    display_name: str
    created_at: datetime


class DashboardEventRead(BaseModel):
    """A feed item without its payload: the dashboard lists, it does not show."""

    id: int
    kind: str
    created_at: datetime
    actor: ActorRead


class DashboardRead(BaseModel):
    user: DashboardUserRead
    recent_events: list[DashboardEventRead]
    events_7d: int
