"""auth service: registration, password login, refresh, logout and token verification."""

from __future__ import annotations

from typing import Annotated, Any

import jwt
import psycopg2.errors
from fastapi import Header
from pwdlib import PasswordHash
from pydantic import BaseModel
from starlette.responses import Response

from before_layout import peers
from before_layout.errors import ApiError
from before_layout.settings import JWT_AUDIENCE, JWT_ISSUER, get_settings
from before_layout.web import create_service

app, db = create_service("auth")
settings = get_settings()
password_hash = PasswordHash.recommended()


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


class Registration(BaseModel):
    email: str
    password: str
    display_name: str


class Credentials(BaseModel):
    email: str
    password: str
    ip: str | None = None
    user_agent: str | None = None


class RefreshRequest(BaseModel):
    refresh_token: str


def _user_out(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("id", "email", "display_name", "created_at")}


@app.post("/internal/register", status_code=201)
async def register(body: Registration) -> dict[str, Any]:
    """Create the user row, then ask profile and prefs to create theirs."""
    # ANTI-PATTERN (fix 2: async stack): Argon2 hashing runs on the event loop thread.
    hashed = password_hash.hash(body.password)
    try:
        user = db.fetch_one(
            "INSERT INTO users (email, password_hash, display_name) VALUES (%s, %s, %s)"
            " RETURNING *",
            (body.email, hashed, body.display_name),
        )
    except psycopg2.errors.UniqueViolation as exc:
        raise ApiError(409, "email already registered") from exc
    assert user is not None
    # No transaction spans the three services: a failure here leaves a user without a profile.
    peers.call("POST", "profile", "/internal/profiles", json={"user_id": user["id"]})
    peers.call("POST", "prefs", "/internal/prefs", json={"user_id": user["id"]})
    return _user_out(user)


@app.post("/internal/login")
async def login(body: Credentials) -> dict[str, Any]:
    user = db.fetch_one("SELECT * FROM users WHERE email = %s", (body.email,))
    # ANTI-PATTERN (fix 2: async stack): Argon2 verification runs on the event loop thread.
    if user is None or not password_hash.verify(body.password, user["password_hash"]):
        raise ApiError(401, "wrong email or password")
    pair = peers.call("POST", "token", "/internal/tokens", json={"user_id": user["id"]}).json()
    event = {"ip": body.ip, "user_agent": body.user_agent}
    peers.call(
        "POST",
        "events",
        "/internal/events",
        json={"user_id": user["id"], "actor_id": user["id"], "kind": "login", "payload": event},
    )
    return dict(pair)


@app.post("/internal/refresh")
async def refresh(body: RefreshRequest) -> dict[str, Any]:
    pair = peers.call("POST", "token", "/internal/tokens/refresh", json=body.model_dump()).json()
    return dict(pair)


@app.post("/internal/logout", status_code=204)
async def logout(authorization: Annotated[str | None, Header()] = None) -> Response:
    claims = require_user(authorization)
    peers.call("POST", "session", f"/internal/sessions/{claims['sid']}/revoke")
    return Response(status_code=204)


@app.get("/internal/verify")
async def verify(authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    """Tell the gateway who is calling (the gateway knows no JWT secret)."""
    claims = require_user(authorization)
    return {"user_id": int(claims["sub"]), "session_id": claims["sid"]}
