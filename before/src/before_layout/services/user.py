"""user service: the users table, and the composed views /me, the dashboard and public profiles."""

from __future__ import annotations

from typing import Annotated, Any

import jwt
from fastapi import Header

from before_layout import peers
from before_layout.errors import ApiError
from before_layout.settings import JWT_AUDIENCE, JWT_ISSUER, get_settings
from before_layout.web import create_service

app, db = create_service("user")
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


def load_user(user_id: int) -> dict[str, Any]:
    # ANTI-PATTERN (fix 4: database): SELECT * (password hash included) for four columns.
    row = db.fetch_one("SELECT * FROM users WHERE id = %s", (user_id,))
    if row is None:
        raise ApiError(404, "user not found")
    return {k: row[k] for k in ("id", "email", "display_name", "created_at")}


@app.get("/internal/me")
async def me(authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    """Compose user, profile and prefs, one service at a time."""
    user_id = int(require_user(authorization)["sub"])
    user = load_user(user_id)
    # ANTI-PATTERN (fix 1: merge services): two more sequential hops for two more rows.
    profile = peers.call("GET", "profile", f"/internal/profiles/{user_id}").json()
    prefs = peers.call("GET", "prefs", f"/internal/prefs/{user_id}").json()
    return {**user, "bio": profile["bio"], "avatar_url": profile["avatar_url"], "prefs": prefs}


@app.get("/internal/users/{user_id}/public")
async def public_profile(user_id: int) -> dict[str, Any]:
    user = load_user(user_id)
    profile = peers.call("GET", "profile", f"/internal/profiles/{user_id}").json()
    return {
        "id": user["id"],
        "display_name": user["display_name"],
        "bio": profile["bio"],
        "avatar_url": profile["avatar_url"],
    }


@app.get("/internal/me/dashboard")
async def dashboard(authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    """The hot path: user, recent events, stats and recent reports, gathered hop after hop."""
    user_id = int(require_user(authorization)["sub"])
    user = load_user(user_id)
    # ANTI-PATTERN (fix 5: cache): a constant re-read from the shared config table every time.
    size = db.fetch_one("SELECT value FROM config WHERE key = 'dashboard.recent_events'")
    limit = size["value"] if size else 10
    # ANTI-PATTERN (fix 1: merge services): the chain gateway -> auth -> user -> events and
    # user -> report -> export runs sequentially, each hop blocking the loop of the one before.
    # ANTI-PATTERN (fix 5: cache): nothing of this is cached, however often it is asked for.
    recent = peers.call(
        "GET", "events", f"/internal/users/{user_id}/recent", params={"limit": limit}
    ).json()
    reports = peers.call(
        "GET", "report", "/internal/me/reports-summary", headers=peers.bearer(authorization)
    ).json()
    return {
        "user": user,
        "recent_events": recent["items"],
        "stats": {
            "events_7d": reports["stats"]["events_7d"],
            "reports_total": reports["stats"]["reports_total"],
            "reports_pending": reports["stats"]["reports_pending"],
        },
        "recent_reports": reports["recent_reports"],
    }
