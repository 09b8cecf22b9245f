"""Items: creation, validation, reads, the cache, and the health routes of the shared factory."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

STATEMENTS = "x-evidence-db-statements"


def statements(response: httpx.Response) -> int:
    return int(response.headers[STATEMENTS])


async def test_create_returns_the_item(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/internal/items", json={"name": "  First  ", "description": "an example"}
    )

    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "First" and body["description"] == "an example"
    assert set(body) == {"id", "name", "description", "created_at"}


async def test_item_of_previous_test_was_rolled_back(connection: AsyncConnection) -> None:
    count = await connection.scalar(
        text("SELECT count(*) FROM skeleton.items WHERE name = 'First'")
    )

    assert count == 0


async def test_a_taken_name_is_409(client: httpx.AsyncClient) -> None:
    assert (await client.post("/internal/items", json={"name": "Twice"})).status_code == 201

    response = await client.post("/internal/items", json={"name": "Twice"})

    assert response.status_code == 409
    assert response.json()["error"] == "conflict"


@pytest.mark.parametrize(
    "body",
    [{}, {"name": "   "}, {"name": "x" * 81}, {"name": "ok", "description": "x" * 2001},
     {"name": "ok", "owner": "admin"}],
    ids=["missing-name", "blank-name", "long-name", "long-description", "extra-field"],
)  # fmt: skip
async def test_invalid_bodies_are_422(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await client.post("/internal/items", json=body)

    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


async def test_get_and_list_newest_first(client: httpx.AsyncClient) -> None:
    ids = [
        (await client.post("/internal/items", json={"name": f"Item {n}"})).json()["id"]
        for n in range(3)
    ]

    one = await client.get(f"/internal/items/{ids[0]}")
    page = await client.get("/internal/items", params={"limit": 2})

    assert one.status_code == 200 and one.json()["name"] == "Item 0"
    assert [item["id"] for item in page.json()["items"]] == ids[:0:-1]


async def test_unknown_item_is_404_and_bad_ids_are_422(client: httpx.AsyncClient) -> None:
    missing = await client.get("/internal/items/987654321")

    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "detail": "item not found"}
    assert (await client.get("/internal/items/0")).status_code == 422
    assert (await client.get(f"/internal/items/{2**63}")).status_code == 422
    assert (await client.get("/internal/items", params={"limit": 101})).status_code == 422


async def test_second_read_is_served_from_the_cache(
    committed_client: httpx.AsyncClient, state: dict[str, Any]
) -> None:
    created = await committed_client.post("/internal/items", json={"name": "Cached item"})
    item_id = created.json()["id"]
    try:
        cold = await committed_client.get(f"/internal/items/{item_id}")
        warm = await committed_client.get(f"/internal/items/{item_id}")

        assert (statements(cold), statements(warm)) == (1, 0)
        assert warm.json() == cold.json()
    finally:
        async with state["db"].engine.begin() as conn:
            delete = text("DELETE FROM skeleton.items WHERE id = :id")
            await conn.execute(delete, {"id": item_id})


async def test_health_readiness_and_metrics(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/readyz")).status_code == 200
    assert (await client.get("/metrics")).status_code == 200
