"""report service: report requests (the reports table); the work itself is export's."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Annotated, Any

import jwt
import psycopg2.errors
from fastapi import Header
from pydantic import BaseModel
from starlette.responses import Response

from before_layout import peers
from before_layout.db import Row
from before_layout.errors import ApiError
from before_layout.settings import JWT_AUDIENCE, JWT_ISSUER, get_settings
from before_layout.web import create_service

app, db = create_service("report")
settings = get_settings()

LIST_LIMIT = 100


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


class ReportCreate(BaseModel):
    kind: str
    days: int


def report_out(row: Row) -> dict[str, Any]:
    keys = ("id", "kind", "days", "status", "created_at", "completed_at")
    return {key: row[key] for key in keys}


def request_hash(body: ReportCreate) -> str:
    return hashlib.sha256(json.dumps(body.model_dump(), sort_keys=True).encode()).hexdigest()


def _replay(user_id: int, key: str, digest: str) -> Row | None:
    row = db.fetch_one(
        "SELECT * FROM reports WHERE user_id = %s AND idempotency_key = %s", (user_id, key)
    )
    if row is not None and row["request_hash"] != digest:
        raise ApiError(422, "Idempotency-Key was already used with a different request body")
    return row


@app.post("/internal/me/reports", status_code=202)
async def create_report(
    body: ReportCreate,
    authorization: Annotated[str | None, Header()] = None,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Record the request, then have export do all the work before answering."""
    user_id = int(require_user(authorization)["sub"])
    # ANTI-PATTERN (fix 5: cache): a constant fetched from the config service on every request.
    max_days = int(peers.call("GET", "config", "/internal/config/reports.max_days").json()["value"])
    if not 1 <= body.days <= max_days:
        raise ApiError(422, f"days: must be between 1 and {max_days}")
    digest = request_hash(body)
    if idempotency_key is not None:
        existing = _replay(user_id, idempotency_key, digest)
        if existing is not None:
            return report_out(existing)
    report_id = uuid.uuid4()
    try:
        db.execute(
            "INSERT INTO reports (id, user_id, kind, days, idempotency_key, request_hash)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (report_id, user_id, body.kind, body.days, idempotency_key, digest),
        )
    except psycopg2.errors.UniqueViolation:
        # A concurrent request with the same key won the race: answer with its report.
        assert idempotency_key is not None
        existing = _replay(user_id, idempotency_key, digest)
        assert existing is not None
        return report_out(existing)
    # ANTI-PATTERN (fix 3: background work): the PDF, the email and the webhook all happen
    # inside this request, so the 202 comes back with status "done" seconds later (after: the
    # row is queued and a Celery task does the work; the client polls).
    peers.call(
        "POST", "export", f"/internal/me/exports/{report_id}", headers=peers.bearer(authorization)
    )
    row = db.fetch_one("SELECT * FROM reports WHERE id = %s", (report_id,))
    assert row is not None
    return report_out(row)


@app.get("/internal/me/reports")
async def list_reports(authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    user_id = int(require_user(authorization)["sub"])
    # ANTI-PATTERN (fix 4: database): SELECT * drags every stored PDF out of the database just
    # to list ids and statuses.
    rows = db.fetch_all(
        "SELECT * FROM reports WHERE user_id = %s ORDER BY created_at DESC LIMIT %s",
        (user_id, LIST_LIMIT),
    )
    return {"items": [report_out(row) for row in rows]}


@app.get("/internal/me/reports/{report_id}")
async def get_report(
    report_id: uuid.UUID, authorization: Annotated[str | None, Header()] = None
) -> dict[str, Any]:
    user_id = int(require_user(authorization)["sub"])
    row = db.fetch_one(
        "SELECT * FROM reports WHERE id = %s AND user_id = %s", (report_id, user_id)
    )
    if row is None:
        raise ApiError(404, "report not found")
    return report_out(row)


@app.get("/internal/me/reports-summary")
async def reports_summary(
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """The dashboard's report part: the newest reports here, the counts from export."""
    user_id = int(require_user(authorization)["sub"])
    # ANTI-PATTERN (fix 5: cache): a constant re-read from the shared config table every time.
    size = db.fetch_one("SELECT value FROM config WHERE key = 'dashboard.recent_reports'")
    # ANTI-PATTERN (fix 4: database): SELECT * brings each report's stored PDF along.
    rows = db.fetch_all(
        "SELECT * FROM reports WHERE user_id = %s ORDER BY created_at DESC LIMIT %s",
        (user_id, size["value"] if size else 5),
    )
    stats = peers.call(
        "GET", "export", "/internal/me/stats", headers=peers.bearer(authorization)
    ).json()
    return {"recent_reports": [report_out(row) for row in rows], "stats": stats}


@app.get("/internal/reports/{report_id}/file")
async def report_file(report_id: uuid.UUID) -> Response:
    """Return a report's PDF; the caller checks the signed link against X-Report-User-Id."""
    row = db.fetch_one("SELECT * FROM reports WHERE id = %s", (report_id,))
    if row is None or row["pdf"] is None:
        raise ApiError(404, "report file not found")
    return Response(
        bytes(row["pdf"]),
        media_type="application/pdf",
        headers={"X-Report-User-Id": str(row["user_id"])},
    )
