"""Bodies of the public auth routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

Email = Annotated[EmailStr, Field(max_length=254)]
# The length policy applies at sign-up; login accepts any length up to the cap that bounds hashing.
NewPassword = Annotated[str, Field(min_length=8, max_length=128)]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Token = Annotated[str, Field(min_length=1, max_length=2048)]


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: NewPassword
    display_name: DisplayName


class AccountRead(BaseModel):
    id: int
    email: str
    display_name: str
    created_at: datetime


class SessionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Annotated[str, Field(min_length=1, max_length=128)]


class SessionRefresh(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: Token


class TokenPairRead(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"]
    expires_in: int
