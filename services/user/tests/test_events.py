"""Activity events: recording, the keyset feed and the cached dashboard."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from user_service.events.repository import _NEXT_PAGE

CreateUser = Any  # conftest's factory fixture


def statements(response: httpx.Response) -> int:
    return int(response.headers["x-evidence-db-statements"])


async def seed_events(
    connection: AsyncConnection, *, user_id: int, actor_id: int, count: int, days_ago: int = 0
) -> None:
    """Insert events, three per distinct timestamp, so the id must break ties."""
    await connection.execute(
        text(
            """
            INSERT INTO users.events (user_id, actor_id, kind, payload, created_at)
            SELECT :user_id, :actor_id, 'seed.event', jsonb_build_object('n', g),
                   now() - make_interval(days => :days_ago) - make_interval(secs => g / 3)
            FROM generate_series(1, :count) g
            """
        ),
        {"user_id": user_id, "actor_id": actor_id, "count": count, "days_ago": days_ago},
    )


async def test_record_event_returns_its_id_and_it_appears_in_the_feed(
    client: httpx.AsyncClient, create_user: CreateUser
) -> None:
    user_id = await create_user("Owner")
    actor_id = await create_user("Actor")

    response = await client.post(
        f"/internal/users/{user_id}/events",
        json={"kind": "report.done", "actor_id": actor_id, "payload": {"report": "r1"}},
    )

    assert response.status_code == 201
    event_id = response.json()["id"]
    page = (await client.get(f"/internal/users/{user_id}/events")).json()
    assert page["next_cursor"] is None
    [item] = page["items"]
    assert item["id"] == event_id
    assert item["kind"] == "report.done"
    assert item["payload"] == {"report": "r1"}
    assert item["actor"] == {"id": actor_id, "display_name": "Actor"}


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "Bad-Kind", "actor_id": 1, "payload": {}},
        {"kind": "", "actor_id": 1, "payload": {}},
        {"kind": "a" * 41, "actor_id": 1, "payload": {}},
        {"kind": "a.b", "actor_id": 0, "payload": {}},
        {"kind": "a.b", "actor_id": 1, "payload": [1, 2]},
        {"kind": "a.b", "actor_id": 1, "payload": {"blob": "x" * 4100}},
        {"kind": "a.b", "actor_id": 1, "payload": {}, "user_id": 5},
    ],
    ids=["kind-pattern", "kind-empty", "kind-long", "actor-zero", "payload-list", "big", "extra"],
)
async def test_invalid_events_are_422(
    client: httpx.AsyncClient, create_user: CreateUser, body: dict[str, object]
) -> None:
    user_id = await create_user()

    response = await client.post(f"/internal/users/{user_id}/events", json=body)

    assert response.status_code == 422


async def test_feed_pages_cover_every_event_once_newest_first(
    client: httpx.AsyncClient, create_user: CreateUser, connection: AsyncConnection
) -> None:
    user_id = await create_user()
    await seed_events(connection, user_id=user_id, actor_id=user_id, count=45)

    pages, cursor = [], None
    while True:
        params = {"limit": 20} | ({"cursor": cursor} if cursor else {})
        response = await client.get(f"/internal/users/{user_id}/events", params=params)
        assert response.status_code == 200
        pages.append(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break

    assert [len(page) for page in pages] == [20, 20, 5]
    items = [item for page in pages for item in page]
    assert len({item["id"] for item in items}) == 45
    keys = [(item["created_at"], item["id"]) for item in items]
    assert keys == sorted(keys, reverse=True)
    assert all(item["actor"]["display_name"] == "Ada" for item in items)


async def test_feed_of_a_user_without_events_is_empty(
    client: httpx.AsyncClient, create_user: CreateUser
) -> None:
    user_id = await create_user()

    response = await client.get(f"/internal/users/{user_id}/events")

    assert response.json() == {"items": [], "next_cursor": None}


async def test_feed_is_one_statement(
    committed_client: httpx.AsyncClient, committed_users: CreateUser
) -> None:
    user_id = await committed_users()
    actor_id = await committed_users("Other")
    for n in range(3):
        await committed_client.post(
            f"/internal/users/{user_id}/events",
            json={"kind": "a.b", "actor_id": actor_id if n else user_id, "payload": {"n": n}},
        )

    first = await committed_client.get(f"/internal/users/{user_id}/events", params={"limit": 2})
    second = await committed_client.get(
        f"/internal/users/{user_id}/events",
        params={"limit": 2, "cursor": first.json()["next_cursor"]},
    )

    assert (statements(first), statements(second)) == (1, 1)
    assert len(second.json()["items"]) == 1


def _cursor(value: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value)).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        _cursor("not a pair"),
        _cursor(["yesterday", 5]),
        _cursor(["2024-01-01T00:00:00", 5]),  # no time zone: we never issue those
        _cursor(["2024-01-01T00:00:00+00:00", 2**63]),
        _cursor(["2024-01-01T00:00:00+00:00", 0]),
    ],
    ids=["junk", "not-pair", "bad-date", "naive-date", "huge-id", "zero-id"],
)
async def test_tampered_cursors_are_422(
    client: httpx.AsyncClient, create_user: CreateUser, cursor: str
) -> None:
    user_id = await create_user()

    response = await client.get(f"/internal/users/{user_id}/events", params={"cursor": cursor})

    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


@pytest.mark.parametrize("limit", [0, 101, -1])
async def test_limits_outside_1_to_100_are_422(
    client: httpx.AsyncClient, create_user: CreateUser, limit: int
) -> None:
    user_id = await create_user()

    response = await client.get(f"/internal/users/{user_id}/events", params={"limit": limit})

    assert response.status_code == 422


async def test_feed_query_can_walk_the_composite_index(
    client: httpx.AsyncClient, create_user: CreateUser, connection: AsyncConnection
) -> None:
    user_id = await create_user()
    await connection.execute(text("SET LOCAL enable_seqscan = off"))
    plan = await connection.execute(
        text("EXPLAIN " + _NEXT_PAGE.text),
        {
            "user_id": user_id,
            "limit": 21,
            "after_created_at": datetime(2030, 1, 1, tzinfo=UTC),
            "after_id": 9,
        },
    )

    assert "ix_events_user_created" in "\n".join(row[0] for row in plan)


async def test_dashboard_shows_user_ten_newest_events_and_7_day_count(
    client: httpx.AsyncClient, create_user: CreateUser, connection: AsyncConnection
) -> None:
    user_id = await create_user("Dash")
    actor_id = await create_user("Actor")
    await seed_events(connection, user_id=user_id, actor_id=actor_id, count=4, days_ago=8)
    await seed_events(connection, user_id=user_id, actor_id=actor_id, count=12)

    response = await client.get(f"/internal/users/{user_id}/dashboard")

    assert response.status_code == 200
    body = response.json()
    assert body["user"]["id"] == user_id and body["user"]["display_name"] == "Dash"
    assert set(body["user"]) == {"id", "email", "display_name", "created_at"}
    assert body["events_7d"] == 12
    recent = body["recent_events"]
    assert len(recent) == 10
    assert all(set(item) == {"id", "kind", "created_at", "actor"} for item in recent)
    assert recent[0]["actor"] == {"id": actor_id, "display_name": "Actor"}
    feed = (await client.get(f"/internal/users/{user_id}/events", params={"limit": 10})).json()
    assert [item["id"] for item in recent] == [item["id"] for item in feed["items"]]


async def test_dashboard_of_a_user_without_events(
    client: httpx.AsyncClient, create_user: CreateUser
) -> None:
    user_id = await create_user()

    body = (await client.get(f"/internal/users/{user_id}/dashboard")).json()

    assert (body["recent_events"], body["events_7d"]) == ([], 0)


async def test_dashboard_is_one_statement_cold_zero_warm_and_writes_invalidate_it(
    committed_client: httpx.AsyncClient, committed_users: CreateUser
) -> None:
    user_id = await committed_users("Before")
    url = f"/internal/users/{user_id}/dashboard"

    cold = await committed_client.get(url)
    warm = await committed_client.get(url)
    assert (statements(cold), statements(warm)) == (1, 0)

    await committed_client.post(
        f"/internal/users/{user_id}/events", json={"kind": "a.b", "actor_id": user_id}
    )
    after_event = await committed_client.get(url)
    assert statements(after_event) == 1
    assert after_event.json()["events_7d"] == 1

    await committed_client.patch(
        f"/internal/users/{user_id}/profile", json={"display_name": "After"}
    )
    after_patch = (await committed_client.get(url)).json()
    assert after_patch["user"]["display_name"] == "After"
    assert after_patch["events_7d"] == 2  # the profile.updated event
