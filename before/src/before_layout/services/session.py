"""session service: the sessions table (one row per login), rotation and revocation."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel
from starlette.responses import Response

from before_layout.errors import ApiError
from before_layout.web import create_service

app, db = create_service("session")


class SessionCreate(BaseModel):
    user_id: int
    refresh_jti: uuid.UUID
    expires_at: datetime


class Rotation(BaseModel):
    presented_jti: uuid.UUID
    new_jti: uuid.UUID


@app.post("/internal/sessions", status_code=201)
async def create_session(body: SessionCreate) -> dict[str, object]:
    session_id = uuid.uuid4()
    db.execute(
        "INSERT INTO sessions (id, user_id, refresh_jti, expires_at) VALUES (%s, %s, %s, %s)",
        (session_id, body.user_id, body.refresh_jti, body.expires_at),
    )
    return {"id": str(session_id), "user_id": body.user_id}


@app.post("/internal/sessions/{session_id}/rotate")
async def rotate(session_id: uuid.UUID, body: Rotation) -> dict[str, object]:
    """Swap the refresh jti; presenting an old one is reuse and revokes the session."""
    rotated = db.fetch_one(
        "UPDATE sessions SET refresh_jti = %s WHERE id = %s AND refresh_jti = %s"
        " AND revoked_at IS NULL AND expires_at > now() RETURNING user_id",
        (body.new_jti, session_id, body.presented_jti),
    )
    if rotated is not None:
        return {"id": str(session_id), "user_id": rotated["user_id"]}
    session = db.fetch_one("SELECT * FROM sessions WHERE id = %s", (session_id,))
    if session is None or session["revoked_at"] is not None:
        raise ApiError(401, "session revoked")
    if session["refresh_jti"] != body.presented_jti:
        # A refresh token used twice was stolen or replayed: end the whole session.
        db.execute("UPDATE sessions SET revoked_at = now() WHERE id = %s", (session_id,))
        raise ApiError(401, "refresh token reused; session revoked")
    raise ApiError(401, "session expired")


@app.post("/internal/sessions/{session_id}/revoke", status_code=204)
async def revoke(session_id: uuid.UUID) -> Response:
    db.execute(
        "UPDATE sessions SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL",
        (session_id,),
    )
    return Response(status_code=204)
