"""Bodies of the account routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from identity_service.schemas import Email, Password


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Password


class AccountRead(BaseModel):
    id: int
    email: str
    created_at: datetime
