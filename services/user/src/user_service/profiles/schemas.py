"""Bodies of the profile and preference routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from user_service.schemas import DisplayName, Email, HttpUrlStr, UserId

Theme = Literal["light", "dark", "system"]
# BCP-47-ish: a 2-3 letter language, then optional subtags (region, script, variant).
Locale = Annotated[str, Field(max_length=16, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
Bio = Annotated[str, Field(max_length=2000)]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: UserId
    email: Email
    display_name: DisplayName


class ProfileUpdate(BaseModel):
    """A partial update: only the fields sent are written (`model_fields_set`)."""

    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName | None = None
    bio: Bio | None = None
    avatar_url: HttpUrlStr | None = None  # null clears the avatar

    @model_validator(mode="after")
    def _check_fields(self) -> ProfileUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one of display_name, bio, avatar_url")
        for name in ("display_name", "bio"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> dict[str, str | None]:
        """Return the fields the caller sent, with their new values."""
        return {name: getattr(self, name) for name in sorted(self.model_fields_set)}


class PrefsUpdate(BaseModel):
    """The whole preference set (PUT); an omitted webhook_url means none."""

    model_config = ConfigDict(extra="forbid")

    theme: Theme
    locale: Locale
    email_notifications: StrictBool
    webhook_url: HttpUrlStr | None = None


class PrefsRead(BaseModel):
    theme: Theme
    locale: str
    email_notifications: bool
    webhook_url: str | None


class MeRead(BaseModel):
    id: int
    email: str
    display_name: str
    created_at: datetime
    bio: str
    avatar_url: str | None
    prefs: PrefsRead


class PublicProfileRead(BaseModel):
    id: int
    display_name: str
    bio: str
    avatar_url: str | None
