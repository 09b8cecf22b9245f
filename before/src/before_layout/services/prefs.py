"""prefs service: theme, locale and notification settings (the prefs table)."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any
from urllib.parse import urlsplit

import jwt
from fastapi import Header
from pydantic import BaseModel

from before_layout.errors import ApiError
from before_layout.settings import JWT_AUDIENCE, JWT_ISSUER, get_settings
from before_layout.web import create_service

app, db = create_service("prefs")
settings = get_settings()


# --- auth check -------------------------------------------------------------------------------
# ANTI-PATTERN (fix 1: merge services): this block is copy-pasted into 6 services (auth, user,
# profile, prefs, report, export); each decodes the JWT and re-checks the session in the
# database on every call (after: core_api verifies once per request, revocations sit in Redis).
def require_user(authorization: str | None) -> dict[str, Any]:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise ApiError(401, "missing bearer token")
    try:
        claims = jwt.decode(
            authorization[7:],
            settings.jwt_secret,
            algorithms=["HS256"],
            audience=JWT_AUDIENCE,
            issuer=JWT_ISSUER,
        )
    except jwt.PyJWTError as exc:
        raise ApiError(401, "invalid or expired token") from exc
    if claims.get("typ") != "access":
        raise ApiError(401, "not an access token")
    session = db.fetch_one("SELECT * FROM sessions WHERE id = %s", (claims["sid"],))
    if session is None or session["revoked_at"] is not None:
        raise ApiError(401, "session revoked")
    return claims
# --- end of auth check ------------------------------------------------------------------------


class PrefsCreate(BaseModel):
    user_id: int


class PrefsUpdate(BaseModel):
    theme: str
    locale: str
    email_notifications: bool
    webhook_url: str | None = None


def _prefs_out(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("theme", "locale", "email_notifications", "webhook_url")
    return {key: row[key] for key in keys}


def check_webhook_url(url: str) -> None:
    """Refuse URLs that would make us call our own network, unless configured as allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApiError(422, "webhook_url: must be an absolute http(s) URL")
    host = parts.hostname
    if host in settings.webhook_allowed_hosts or parts.netloc in settings.webhook_allowed_hosts:
        return
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        internal = host == "localhost" or host.endswith((".localhost", ".internal", ".local"))
    else:
        internal = not address.is_global
    if internal:
        raise ApiError(422, "webhook_url: private and loopback addresses are not allowed")


@app.post("/internal/prefs", status_code=201)
async def create_prefs(body: PrefsCreate) -> dict[str, Any]:
    row = db.fetch_one("INSERT INTO prefs (user_id) VALUES (%s) RETURNING *", (body.user_id,))
    assert row is not None
    return _prefs_out(row)


@app.get("/internal/prefs/{user_id}")
async def get_prefs(user_id: int) -> dict[str, Any]:
    row = db.fetch_one("SELECT * FROM prefs WHERE user_id = %s", (user_id,))
    if row is None:
        raise ApiError(404, "prefs not found")
    return _prefs_out(row)


@app.put("/internal/me/prefs")
async def put_prefs(
    body: PrefsUpdate, authorization: Annotated[str | None, Header()] = None
) -> dict[str, Any]:
    user_id = int(require_user(authorization)["sub"])
    if body.webhook_url is not None:
        check_webhook_url(body.webhook_url)
    row = db.fetch_one(
        "UPDATE prefs SET theme = %s, locale = %s, email_notifications = %s, webhook_url = %s,"
        " updated_at = now() WHERE user_id = %s RETURNING *",
        (body.theme, body.locale, body.email_notifications, body.webhook_url, user_id),
    )
    if row is None:
        raise ApiError(404, "prefs not found")
    return _prefs_out(row)
