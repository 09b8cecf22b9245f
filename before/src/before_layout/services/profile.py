"""profile service: bio and avatar (the profiles table), and the display name in users."""

from __future__ import annotations

from typing import Annotated, Any

import jwt
from fastapi import Header
from pydantic import BaseModel

from before_layout import peers
from before_layout.errors import ApiError
from before_layout.settings import JWT_AUDIENCE, JWT_ISSUER, get_settings
from before_layout.web import create_service

app, db = create_service("profile")
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


class ProfileCreate(BaseModel):
    user_id: int


class ProfileUpdate(BaseModel):
    display_name: str | None = None
    bio: str | None = None
    avatar_url: str | None = None


def _profile_out(row: dict[str, Any]) -> dict[str, Any]:
    return {"user_id": row["user_id"], "bio": row["bio"], "avatar_url": row["avatar_url"]}


@app.post("/internal/profiles", status_code=201)
async def create_profile(body: ProfileCreate) -> dict[str, Any]:
    row = db.fetch_one(
        "INSERT INTO profiles (user_id) VALUES (%s) RETURNING *", (body.user_id,)
    )
    assert row is not None
    return _profile_out(row)


@app.get("/internal/profiles/{user_id}")
async def get_profile(user_id: int) -> dict[str, Any]:
    # ANTI-PATTERN (fix 4: database): SELECT * where three columns are needed.
    row = db.fetch_one("SELECT * FROM profiles WHERE user_id = %s", (user_id,))
    if row is None:
        raise ApiError(404, "profile not found")
    return _profile_out(row)


@app.patch("/internal/me/profile")
async def update_profile(
    body: ProfileUpdate, authorization: Annotated[str | None, Header()] = None
) -> dict[str, Any]:
    """Apply the fields the caller sent; a changed display name lands in the users table."""
    user_id = int(require_user(authorization)["sub"])
    changes = body.model_dump(exclude_unset=True)
    if "display_name" in changes:
        # The display name lives in the users table, which this service writes directly.
        db.execute(
            "UPDATE users SET display_name = %s WHERE id = %s",
            (changes["display_name"], user_id),
        )
    profile_fields = {k: v for k, v in changes.items() if k in ("bio", "avatar_url")}
    if profile_fields:
        assignments = ", ".join(f"{column} = %({column})s" for column in profile_fields)
        db.execute(
            f"UPDATE profiles SET {assignments}, updated_at = now() WHERE user_id = %(user_id)s",
            {**profile_fields, "user_id": user_id},
        )
    if changes:
        peers.call(
            "POST",
            "events",
            "/internal/events",
            json={
                "user_id": user_id,
                "actor_id": user_id,
                "kind": "profile.updated",
                "payload": {"fields": sorted(changes)},
            },
        )
    return {"user_id": user_id, "changed": sorted(changes)}
