"""token service: signs access and refresh JWTs (HS256) and asks the session service to rotate."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
from pydantic import BaseModel

from before_layout import peers
from before_layout.errors import ApiError
from before_layout.settings import JWT_AUDIENCE, JWT_ISSUER, get_settings
from before_layout.web import create_service

app, db = create_service("token")
settings = get_settings()


class TokenRequest(BaseModel):
    user_id: int


class RefreshRequest(BaseModel):
    refresh_token: str


def _sign(user_id: int, session_id: str, typ: str, jti: uuid.UUID, ttl: timedelta) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "sid": session_id,
        "typ": typ,
        "jti": str(jti),
        "iat": now,
        "exp": now + ttl,
        "iss": JWT_ISSUER,
        "aud": JWT_AUDIENCE,
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


def _pair(user_id: int, session_id: str, refresh_jti: uuid.UUID) -> dict[str, object]:
    access_ttl = timedelta(seconds=settings.access_ttl_s)
    refresh_ttl = timedelta(seconds=settings.refresh_ttl_s)
    return {
        "access_token": _sign(user_id, session_id, "access", uuid.uuid4(), access_ttl),
        "refresh_token": _sign(user_id, session_id, "refresh", refresh_jti, refresh_ttl),
        "token_type": "bearer",
        "expires_in": settings.access_ttl_s,
    }


@app.post("/internal/tokens", status_code=201)
async def issue(body: TokenRequest) -> dict[str, object]:
    """Open a session for a user who just proved their password, and sign its first pair."""
    refresh_jti = uuid.uuid4()
    expires_at = datetime.now(UTC) + timedelta(seconds=settings.refresh_ttl_s)
    session = peers.call(
        "POST", "session", "/internal/sessions",
        json={"user_id": body.user_id, "refresh_jti": str(refresh_jti),
              "expires_at": expires_at.isoformat()},
    ).json()
    return _pair(body.user_id, session["id"], refresh_jti)


@app.post("/internal/tokens/refresh")
async def refresh(body: RefreshRequest) -> dict[str, object]:
    """Rotate a pair: the presented refresh token becomes unusable."""
    try:
        claims = jwt.decode(
            body.refresh_token, settings.jwt_secret, algorithms=["HS256"],
            audience=JWT_AUDIENCE, issuer=JWT_ISSUER,
        )
    except jwt.PyJWTError as exc:
        raise ApiError(401, "invalid or expired refresh token") from exc
    if claims.get("typ") != "refresh":
        raise ApiError(401, "not a refresh token")
    new_jti = uuid.uuid4()
    peers.call(
        "POST", "session", f"/internal/sessions/{claims['sid']}/rotate",
        json={"presented_jti": claims["jti"], "new_jti": str(new_jti)},
    )
    return _pair(int(claims["sub"]), claims["sid"], new_jti)
