"""export service: turns a report request into a PDF and delivers it; also the report stats."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import jwt
from fastapi import Header

from before_layout import peers
from before_layout.errors import ApiError
from before_layout.settings import JWT_AUDIENCE, JWT_ISSUER, get_settings
from before_layout.web import create_service

app, db = create_service("export")
settings = get_settings()
log = logging.getLogger(__name__)


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


@app.get("/internal/me/stats")
async def stats(authorization: Annotated[str | None, Header()] = None) -> dict[str, int]:
    user_id = int(require_user(authorization)["sub"])
    # ANTI-PATTERN (fix 4: database): without the events (user_id, created_at) index this count
    # scans the whole events table on every dashboard view.
    events = db.fetch_one(
        "SELECT count(*) AS n FROM events WHERE user_id = %s"
        " AND created_at > now() - interval '7 days'",
        (user_id,),
    )
    reports = db.fetch_one(
        "SELECT count(*) AS total,"
        " count(*) FILTER (WHERE status IN ('queued', 'running')) AS pending"
        " FROM reports WHERE user_id = %s",
        (user_id,),
    )
    assert events is not None and reports is not None
    return {
        "events_7d": events["n"],
        "reports_total": reports["total"],
        "reports_pending": reports["pending"],
    }


def _render_and_deliver(report: dict[str, Any], user: dict[str, Any]) -> datetime:
    """Render the PDF, store it, send the email and the webhook; return the completion time."""
    events = peers.call(
        "GET", "events", f"/internal/users/{user['id']}/since", params={"days": report["days"]}
    ).json()["items"]
    # ANTI-PATTERN (fix 3: background work): PDF rendering, SMTP and the webhook's retries all
    # run while the client waits for its 202 (after: Celery tasks after the response).
    pdf = peers.call(
        "POST",
        "pdf",
        "/internal/render",
        json={
            "user": {k: user[k] for k in ("id", "email", "display_name")},
            "events": events,
            "days": report["days"],
            "generated_at": datetime.now(UTC).isoformat(),
        },
    ).content
    db.execute("UPDATE reports SET pdf = %s WHERE id = %s", (pdf, report["id"]))
    completed_at = datetime.now(UTC)
    prefs = peers.call("GET", "prefs", f"/internal/prefs/{user['id']}").json()
    if prefs["email_notifications"]:
        peers.call("POST", "email", "/internal/report-ready", json={"report_id": str(report["id"])})
    if prefs["webhook_url"]:
        body = {
            "event": "report.done",
            "report_id": str(report["id"]),
            "user_id": user["id"],
            "kind": report["kind"],
            "days": report["days"],
            "completed_at": completed_at.isoformat(),
        }
        delivery = {"url": prefs["webhook_url"], "body": body}
        peers.call("POST", "webhook", "/internal/deliver", json=delivery)
    return completed_at


@app.post("/internal/me/exports/{report_id}")
async def run_export(
    report_id: uuid.UUID, authorization: Annotated[str | None, Header()] = None
) -> dict[str, Any]:
    """Do a report's whole job now; any failure marks the report failed."""
    user_id = int(require_user(authorization)["sub"])
    report = db.fetch_one(
        "SELECT * FROM reports WHERE id = %s AND user_id = %s", (report_id, user_id)
    )
    if report is None:
        raise ApiError(404, "report not found")
    db.execute(
        "UPDATE reports SET status = 'running', started_at = now() WHERE id = %s", (report_id,)
    )
    user = db.fetch_one("SELECT * FROM users WHERE id = %s", (user_id,))
    assert user is not None
    try:
        completed_at = _render_and_deliver(report, user)
    except ApiError as exc:
        log.warning("report %s failed: %s", report_id, exc.detail)
        db.execute(
            "UPDATE reports SET status = 'failed', error = %s, completed_at = now() WHERE id = %s",
            (exc.detail, report_id),
        )
        return {"id": str(report_id), "status": "failed"}
    db.execute(
        "UPDATE reports SET status = 'done', completed_at = %s WHERE id = %s",
        (completed_at, report_id),
    )
    peers.call(
        "POST",
        "events",
        "/internal/events",
        json={
            "user_id": user_id,
            "actor_id": user_id,
            "kind": "report.done",
            "payload": {"report_id": str(report_id), "days": report["days"]},
        },
    )
    return {"id": str(report_id), "status": "done"}
