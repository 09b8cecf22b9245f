"""gateway: the public /v1 API on port 8000; every answer is assembled from internal hops."""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict, deque
from typing import Annotated, Any, Literal

from fastapi import Header, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.responses import Response

from before_layout import peers
from before_layout.errors import ApiError
from before_layout.services import gateway_reports
from before_layout.settings import get_settings
from before_layout.web import create_service

app, db = create_service("gateway")
settings = get_settings()
app.include_router(gateway_reports.router)

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
URL_PATTERN = r"^https?://\S+$"
Authorization = Annotated[str | None, Header()]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RegisterIn(Strict):
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    password: str = Field(min_length=8, max_length=128)
    display_name: str = Field(min_length=1, max_length=100)

    @field_validator("email")
    @classmethod
    def lower_email(cls, value: str) -> str:
        return value.lower()


class LoginIn(Strict):
    email: str = Field(max_length=254)
    password: str = Field(max_length=128)


class RefreshIn(Strict):
    refresh_token: str = Field(min_length=1, max_length=4096)


class ProfilePatch(Strict):
    display_name: str = Field(default=None, min_length=1, max_length=100)  # type: ignore[assignment]
    bio: str = Field(default=None, max_length=500)  # type: ignore[assignment]
    avatar_url: str | None = Field(default=None, pattern=URL_PATTERN, max_length=500)


class PrefsIn(Strict):
    theme: Literal["light", "dark", "system"]
    locale: str = Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
    email_notifications: bool
    webhook_url: str | None = Field(default=None, max_length=2000)


class LoginLimiter:
    """Sliding one-minute windows per IP+email and per IP."""

    # ANTI-PATTERN (fix 5: cache): counters in this one process's memory; they vanish on restart
    # and would not be shared by a second gateway (after: Redis-backed limits).
    def __init__(self, per_email: int, per_ip: int, window_s: float = 60.0) -> None:
        self.limits = {"email": per_email, "ip": per_ip}
        self.window_s = window_s
        self.attempts: dict[tuple[str, ...], deque[float]] = defaultdict(deque)

    def hit(self, ip: str, email: str) -> None:
        """Count one attempt, or raise 429 when either window is full."""
        now = time.monotonic()
        keys = {"email": ("email", ip, email.lower()), "ip": ("ip", ip)}
        for name, key in keys.items():
            window = self.attempts[key]
            while window and window[0] <= now - self.window_s:
                window.popleft()
            if len(window) >= self.limits[name]:
                retry_after = max(1, int(window[0] + self.window_s - now) + 1)
                raise ApiError(
                    429, "too many login attempts", headers={"Retry-After": str(retry_after)}
                )
        for key in keys.values():
            self.attempts[key].append(now)


limiter = LoginLimiter(settings.login_limit_per_email, settings.login_limit_per_ip)


def authenticate(authorization: str | None) -> int:
    """Ask the auth service who this is (the gateway itself cannot read tokens)."""
    verified = peers.call("GET", "auth", "/internal/verify", headers=peers.bearer(authorization))
    return int(verified.json()["user_id"])


@app.post("/v1/auth/register", status_code=201)
async def register(body: RegisterIn) -> Any:
    return peers.call("POST", "auth", "/internal/register", json=body.model_dump()).json()


@app.post("/v1/auth/login")
async def login(body: LoginIn, request: Request) -> Any:
    ip = request.client.host if request.client else "unknown"
    limiter.hit(ip, body.email)
    credentials = {
        "email": body.email.lower(),
        "password": body.password,
        "ip": ip,
        "user_agent": request.headers.get("user-agent"),
    }
    return peers.call("POST", "auth", "/internal/login", json=credentials).json()


@app.post("/v1/auth/refresh")
async def refresh(body: RefreshIn) -> Any:
    return peers.call("POST", "auth", "/internal/refresh", json=body.model_dump()).json()


@app.post("/v1/auth/logout", status_code=204)
async def logout(authorization: Authorization = None) -> Response:
    peers.call("POST", "auth", "/internal/logout", headers=peers.bearer(authorization))
    return Response(status_code=204)


@app.get("/v1/me")
async def me(authorization: Authorization = None) -> Any:
    authenticate(authorization)
    return peers.call("GET", "user", "/internal/me", headers=peers.bearer(authorization)).json()


@app.patch("/v1/me")
async def update_me(body: ProfilePatch, authorization: Authorization = None) -> Any:
    authenticate(authorization)
    headers = peers.bearer(authorization)
    changes = body.model_dump(exclude_unset=True)
    if changes:
        peers.call("PATCH", "profile", "/internal/me/profile", json=changes, headers=headers)
    return peers.call("GET", "user", "/internal/me", headers=headers).json()


@app.put("/v1/me/prefs")
async def put_prefs(body: PrefsIn, authorization: Authorization = None) -> Any:
    authenticate(authorization)
    headers = peers.bearer(authorization)
    return peers.call(
        "PUT", "prefs", "/internal/me/prefs", json=body.model_dump(), headers=headers
    ).json()


@app.get("/v1/users/{user_id}")
async def public_profile(
    user_id: int,
    authorization: Authorization = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    authenticate(authorization)
    body = peers.call("GET", "user", f"/internal/users/{user_id}/public").json()
    raw = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
    etag = '"' + hashlib.sha256(raw).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=60"}
    if if_none_match is not None and etag in {tag.strip() for tag in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(raw, media_type="application/json", headers=headers)


@app.get("/v1/me/events")
async def my_events(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    authorization: Authorization = None,
) -> Any:
    user_id = authenticate(authorization)
    params: dict[str, Any] = {"limit": limit}
    if cursor is not None:
        params["cursor"] = cursor
    return peers.call("GET", "events", f"/internal/users/{user_id}/events", params=params).json()


@app.get("/v1/me/dashboard")
async def dashboard(authorization: Authorization = None) -> Any:
    # ANTI-PATTERN (fix 1: merge services): gateway -> auth, then gateway -> user -> events and
    # user -> report -> export: five sequential hops, three levels deep, for one page.
    authenticate(authorization)
    headers = peers.bearer(authorization)
    return peers.call("GET", "user", "/internal/me/dashboard", headers=headers).json()
