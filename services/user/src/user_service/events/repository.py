"""Queries on users.events: inserts, the keyset feed and the dashboard, one statement each.

Every read walks the composite index ix_events_user_created (user_id, created_at DESC, id DESC):
one user's rows, newest first, read in index order and stopped at the limit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import RowMapping, text
from sqlalchemy.ext.asyncio import AsyncSession

# INSERT ... SELECT FROM profiles: an unknown user inserts nothing (and returns no id), so the
# existence check costs no extra round trip.
_INSERT = text(
    """
    INSERT INTO users.events (user_id, actor_id, kind, payload)
    SELECT p.user_id, :actor_id, :kind, CAST(:payload AS jsonb)
    FROM users.profiles p WHERE p.user_id = :user_id
    RETURNING id
    """
)

# The feed, its actors and the user's existence in one statement: the profile row anchors the
# query (no row: unknown user; one row with NULL event columns: no events), the lateral
# subquery reads one page from the index, and a correlated subquery names each item's actor
# by primary key. As a join the planner may hash all profiles to name a page of 21 items; the
# subquery costs one index probe per item, whatever the size of the table.
_PAGE = """
    SELECT e.id, e.kind, e.created_at, e.payload, e.actor_id,
           (SELECT a.display_name FROM users.profiles a WHERE a.user_id = e.actor_id)
               AS actor_display_name
    FROM users.profiles u
    LEFT JOIN LATERAL (
        SELECT id, kind, created_at, payload, actor_id
        FROM users.events
        WHERE user_id = u.user_id {after}
        ORDER BY created_at DESC, id DESC
        LIMIT :limit
    ) e ON true
    WHERE u.user_id = :user_id
    ORDER BY e.created_at DESC, e.id DESC
"""
_FIRST_PAGE = text(_PAGE.format(after=""))
# A row comparison, so the index range starts right after the cursor's (created_at, id).
_NEXT_PAGE = text(_PAGE.format(after="AND (created_at, id) < (:after_created_at, :after_id)"))

# The whole dashboard in one round trip: the user, their 10 newest events with actors (as
# JSON, already in order) and the 7-day count, each subquery an index range scan. Actors are
# named by one primary-key probe per event, as in the feed.
_DASHBOARD = text(
    """
    SELECT u.user_id AS id, u.email, u.display_name, u.created_at,
        (
            SELECT count(*) FROM users.events c
            WHERE c.user_id = u.user_id AND c.created_at >= now() - interval '7 days'
        ) AS events_7d,
        (
            SELECT coalesce(
                json_agg(
                    json_build_object(
                        'id', r.id, 'kind', r.kind, 'created_at', r.created_at,
                        'actor', json_build_object('id', r.actor_id, 'display_name', r.actor_name)
                    )
                    ORDER BY r.created_at DESC, r.id DESC
                ),
                '[]'
            )
            FROM (
                SELECT ev.id, ev.kind, ev.created_at, ev.actor_id,
                    (SELECT a.display_name FROM users.profiles a WHERE a.user_id = ev.actor_id)
                        AS actor_name
                FROM users.events ev
                WHERE ev.user_id = u.user_id
                ORDER BY ev.created_at DESC, ev.id DESC
                LIMIT :recent
            ) r
        ) AS recent_events
    FROM users.profiles u
    WHERE u.user_id = :user_id
    """
)


async def insert_event(
    session: AsyncSession, *, user_id: int, actor_id: int, kind: str, payload: dict[str, Any]
) -> int | None:
    """Insert an event; return its id, or None when the user is unknown."""
    params = {
        "user_id": user_id,
        "actor_id": actor_id,
        "kind": kind,
        "payload": orjson.dumps(payload).decode(),
    }
    result = await session.execute(_INSERT, params)
    event_id: int | None = result.scalar_one_or_none()
    return event_id


async def select_page(
    session: AsyncSession, *, user_id: int, limit: int, after: tuple[datetime, int] | None
) -> list[dict[str, Any]] | None:
    """Return up to `limit` events older than `after`, newest first; None for an unknown user."""
    params: dict[str, Any] = {"user_id": user_id, "limit": limit}
    statement = _FIRST_PAGE
    if after is not None:
        statement = _NEXT_PAGE
        params.update(after_created_at=after[0], after_id=after[1])
    rows = (await session.execute(statement, params)).mappings().all()
    if not rows:
        return None
    return [_event(row) for row in rows if row["id"] is not None]


async def select_dashboard(
    session: AsyncSession, *, user_id: int, recent: int
) -> RowMapping | None:
    """Return the user, their `recent` newest events and their 7-day event count."""
    result = await session.execute(_DASHBOARD, {"user_id": user_id, "recent": recent})
    return result.mappings().one_or_none()


def _event(row: RowMapping) -> dict[str, Any]:
    return {
        "id": row["id"],
        "kind": row["kind"],
        "created_at": row["created_at"],
        "actor": {"id": row["actor_id"], "display_name": row["actor_display_name"]},
        "payload": row["payload"],
    }
