"""Bodies of the session routes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from identity_service.schemas import Email


class SessionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    # Any length may be tried at login (the policy applies at sign-up); the cap bounds hashing.
    password: Annotated[str, Field(min_length=1, max_length=128)]


class SessionRefresh(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: Annotated[str, Field(min_length=1, max_length=2048)]


class TokenPairRead(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    user_id: int


class SessionStatusRead(BaseModel):
    active: bool
