"""events service: the activity feed (the events table), read by half of the other services."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from jobs_service.pdf import payload_summary
from psycopg2.extras import Json
from pydantic import BaseModel

from before_layout import peers
from before_layout.db import Row
from before_layout.errors import ApiError
from before_layout.web import create_service

app, db = create_service("events")


class EventCreate(BaseModel):
    user_id: int
    actor_id: int
    kind: str
    payload: dict[str, Any] = {}


def encode_cursor(row: Row) -> str:
    raw = f"{row['created_at'].isoformat()}|{row['id']}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, event_id = raw.split("|")
        return datetime.fromisoformat(created_at), int(event_id)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ApiError(422, "cursor: not a cursor this API issued") from exc


def load_actors(rows: list[Row]) -> dict[int, Row | None]:
    """Look up the actor of each event."""
    actors: dict[int, Row | None] = {}
    for row in rows:
        if row["actor_id"] not in actors:
            # ANTI-PATTERN (fix 4: database): N+1, one round trip per actor, and SELECT * drags
            # the password hash along (after: one `WHERE id = ANY($1)` for the needed columns).
            actors[row["actor_id"]] = db.fetch_one(
                "SELECT * FROM users WHERE id = %s", (row["actor_id"],)
            )
    return actors


def _actor(actors: dict[int, Row | None], actor_id: int) -> dict[str, Any]:
    actor = actors.get(actor_id)
    return {"id": actor_id, "display_name": actor["display_name"] if actor else None}


@app.post("/internal/events", status_code=201)
async def create_event(body: EventCreate) -> dict[str, Any]:
    row = db.fetch_one(
        "INSERT INTO events (user_id, actor_id, kind, payload) VALUES (%s, %s, %s, %s)"
        " RETURNING id, created_at",
        (body.user_id, body.actor_id, body.kind, Json(body.payload)),
    )
    assert row is not None
    return {"id": row["id"], "created_at": row["created_at"]}


@app.get("/internal/users/{user_id}/events")
async def list_events(user_id: int, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
    """Return one page of the feed, newest first, keyset-paginated on (created_at, id)."""
    page_size_max = peers.call("GET", "config", "/internal/config/events.page_size_max").json()
    limit = max(1, min(limit, int(page_size_max["value"])))
    # ANTI-PATTERN (fix 4: database): no index on events (user_id, created_at), so each page
    # scans the table; SELECT * reads every ~1 KB payload (the after layout adds the index).
    if cursor is None:
        rows = db.fetch_all(
            "SELECT * FROM events WHERE user_id = %s ORDER BY created_at DESC, id DESC LIMIT %s",
            (user_id, limit + 1),
        )
    else:
        created_at, event_id = decode_cursor(cursor)
        rows = db.fetch_all(
            "SELECT * FROM events WHERE user_id = %s AND (created_at, id) < (%s, %s)"
            " ORDER BY created_at DESC, id DESC LIMIT %s",
            (user_id, created_at, event_id, limit + 1),
        )
    page, more = rows[:limit], len(rows) > limit
    actors = load_actors(page)
    items = [
        {
            "id": row["id"],
            "kind": row["kind"],
            "created_at": row["created_at"],
            "actor": _actor(actors, row["actor_id"]),
            "payload": row["payload"],
        }
        for row in page
    ]
    return {"items": items, "next_cursor": encode_cursor(page[-1]) if more else None}


@app.get("/internal/users/{user_id}/recent")
async def recent_events(user_id: int, limit: int = 10) -> dict[str, Any]:
    """Return the newest events for the dashboard (which shows no payload)."""
    # ANTI-PATTERN (fix 4: database): SELECT * fetches the payload the dashboard drops, with no
    # index to find the user's newest rows.
    rows = db.fetch_all(
        "SELECT * FROM events WHERE user_id = %s ORDER BY created_at DESC, id DESC LIMIT %s",
        (user_id, limit),
    )
    actors = load_actors(rows)
    items = [
        {
            "id": row["id"],
            "kind": row["kind"],
            "created_at": row["created_at"],
            "actor": _actor(actors, row["actor_id"]),
        }
        for row in rows
    ]
    return {"items": items}


@app.get("/internal/users/{user_id}/since")
async def events_since(user_id: int, days: int) -> dict[str, Any]:
    """Return every event of the last `days` days, as the PDF report lists them."""
    rows = db.fetch_all(
        "SELECT * FROM events WHERE user_id = %s AND created_at > now() - make_interval(days => %s)"
        " ORDER BY created_at DESC, id DESC",
        (user_id, days),
    )
    actors = load_actors(rows)
    items = [
        {
            "kind": row["kind"],
            "created_at": row["created_at"],
            "actor_name": _actor(actors, row["actor_id"])["display_name"],
            "summary": payload_summary(row["payload"]),
        }
        for row in rows
    ]
    return {"items": items}
