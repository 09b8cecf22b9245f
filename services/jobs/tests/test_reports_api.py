"""The internal report routes against real PostgreSQL and Redis (the queue is Redis, unconsumed)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import httpx
from jobs_service.app import create_app
from jobs_service.settings import CelerySettings, Settings
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from stack_launcher.net import free_port

BODY = {"kind": "activity_pdf", "days": 7}


def reports_url(user_id: int) -> str:
    return f"/internal/users/{user_id}/reports"


async def queued_render_ids(redis: Redis, queue: str) -> list[str]:
    """Return the report ids of the reports.render messages waiting in the queue."""
    ids = []
    for raw in await redis.lrange(queue, 0, -1):
        message = json.loads(raw)
        assert message["headers"]["task"] == "reports.render"
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        ids.append(args[0])
    return ids


async def test_create_answers_202_queued_and_enqueues_the_report_id(
    client: httpx.AsyncClient, redis: Redis, settings: Settings, user_id: int
) -> None:
    response = await client.post(reports_url(user_id), json=BODY)

    assert response.status_code == 202, response.text
    report = response.json()
    assert set(report) == {"id", "kind", "days", "status", "created_at", "completed_at"}
    assert (report["kind"], report["days"], report["status"]) == ("activity_pdf", 7, "queued")
    assert report["completed_at"] is None
    assert await queued_render_ids(redis, settings.celery.queue) == [report["id"]]


async def test_create_refuses_invalid_bodies_and_headers(
    client: httpx.AsyncClient, redis: Redis, settings: Settings, user_id: int
) -> None:
    for body in (
        {"kind": "activity_pdf", "days": 0},
        {"kind": "activity_pdf", "days": 91},
        {"kind": "csv", "days": 7},
        {"kind": "activity_pdf"},
        {**BODY, "user_id": 1},
    ):
        response = await client.post(reports_url(user_id), json=body)
        assert response.status_code == 422, body
        assert response.json()["error"] == "validation_error"
    long_key = await client.post(
        reports_url(user_id), json=BODY, headers={"Idempotency-Key": "k" * 101}
    )
    assert long_key.status_code == 422
    assert await queued_render_ids(redis, settings.celery.queue) == []


async def test_same_idempotency_key_and_body_returns_the_same_report_once(
    client: httpx.AsyncClient, redis: Redis, settings: Settings, user_id: int
) -> None:
    headers = {"Idempotency-Key": "weekly-1"}
    first = await client.post(reports_url(user_id), json=BODY, headers=headers)
    again = await client.post(reports_url(user_id), json=BODY, headers=headers)

    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await queued_render_ids(redis, settings.celery.queue) == [first.json()["id"]]


async def test_same_idempotency_key_with_another_body_is_422(
    client: httpx.AsyncClient, user_id: int
) -> None:
    headers = {"Idempotency-Key": "weekly-2"}
    first = await client.post(reports_url(user_id), json=BODY, headers=headers)
    other = await client.post(reports_url(user_id), json={**BODY, "days": 8}, headers=headers)

    assert first.status_code == 202
    assert other.status_code == 422
    assert other.json() == {
        "error": "validation_error",
        "detail": "Idempotency-Key reused with a different request",
    }


async def test_an_idempotency_key_belongs_to_one_user(
    client: httpx.AsyncClient, new_user_id: Callable[[], int]
) -> None:
    headers = {"Idempotency-Key": "shared-key"}
    mine = await client.post(reports_url(new_user_id()), json=BODY, headers=headers)
    theirs = await client.post(reports_url(new_user_id()), json=BODY, headers=headers)

    assert mine.status_code == theirs.status_code == 202
    assert mine.json()["id"] != theirs.json()["id"]


async def test_concurrent_requests_with_one_key_create_one_report(
    committing_client: httpx.AsyncClient,
    state: dict[str, Any],
    redis: Redis,
    settings: Settings,
    user_id: int,
) -> None:
    headers = {"Idempotency-Key": "burst"}
    responses = await asyncio.gather(
        *(
            committing_client.post(reports_url(user_id), json=BODY, headers=headers)
            for _ in range(6)
        )
    )

    assert {response.status_code for response in responses} == {202}
    assert len({response.json()["id"] for response in responses}) == 1
    async with state["db"].sessions() as session:
        count = await session.scalar(
            text("SELECT count(*) FROM jobs.reports WHERE user_id = :u"), {"u": user_id}
        )
    assert count == 1
    assert await queued_render_ids(redis, settings.celery.queue) == [responses[0].json()["id"]]


async def test_list_is_newest_first_limited_and_only_the_users_own(
    committing_client: httpx.AsyncClient, new_user_id: Callable[[], int]
) -> None:
    owner, other = new_user_id(), new_user_id()
    created = []
    for days in (1, 2, 3):
        response = await committing_client.post(reports_url(owner), json={**BODY, "days": days})
        created.append(response.json()["id"])
    await committing_client.post(reports_url(other), json=BODY)

    listed = await committing_client.get(reports_url(owner))
    limited = await committing_client.get(reports_url(owner), params={"limit": 2})

    assert [item["id"] for item in listed.json()["items"]] == created[::-1]
    assert [item["id"] for item in limited.json()["items"]] == created[::-1][:2]
    for bad in (0, 101):
        response = await committing_client.get(reports_url(owner), params={"limit": bad})
        assert response.status_code == 422


async def test_get_returns_own_report_and_404_for_anyone_elses(
    client: httpx.AsyncClient, new_user_id: Callable[[], int]
) -> None:
    owner, other = new_user_id(), new_user_id()
    report = (await client.post(reports_url(owner), json=BODY)).json()

    own = await client.get(f"{reports_url(owner)}/{report['id']}")
    foreign = await client.get(f"{reports_url(other)}/{report['id']}")
    made_up = await client.get(f"{reports_url(owner)}/{uuid4()}")

    assert own.status_code == 200 and own.json() == report
    assert foreign.status_code == made_up.status_code == 404
    assert foreign.json() == made_up.json() == {"error": "not_found", "detail": "report not found"}


async def test_summary_counts_pending_and_lists_the_five_newest(
    committing_client: httpx.AsyncClient, state: dict[str, Any], user_id: int
) -> None:
    ids = []
    for days in range(1, 8):
        response = await committing_client.post(reports_url(user_id), json={**BODY, "days": days})
        ids.append(response.json()["id"])
    async with state["db"].sessions() as session:
        await session.execute(
            text("UPDATE jobs.reports SET status = 'done' WHERE id = ANY(:ids)"),
            {"ids": [UUID(i) for i in ids[:2]]},
        )
        await session.execute(
            text("UPDATE jobs.reports SET status = 'running' WHERE id = :id"), {"id": UUID(ids[2])}
        )
        await session.commit()

    summary = (await committing_client.get(f"/internal/users/{user_id}/reports-summary")).json()

    assert summary["reports_total"] == 7
    assert summary["reports_pending"] == 5
    assert [r["id"] for r in summary["recent_reports"]] == ids[::-1][:5]


async def test_summary_is_one_statement_cold_zero_warm_and_invalidated_on_create(
    committing_client: httpx.AsyncClient, user_id: int
) -> None:
    summary_url = f"/internal/users/{user_id}/reports-summary"
    created = await committing_client.post(reports_url(user_id), json=BODY)
    assert created.headers["x-evidence-db-statements"] == "1"

    cold = await committing_client.get(summary_url)
    warm = await committing_client.get(summary_url)
    await committing_client.post(reports_url(user_id), json=BODY)
    after_create = await committing_client.get(summary_url)

    assert cold.headers["x-evidence-db-statements"] == "1"
    assert warm.headers["x-evidence-db-statements"] == "0"
    assert warm.json() == cold.json()
    assert cold.json()["reports_total"] == 1
    assert after_create.headers["x-evidence-db-statements"] == "1"
    assert after_create.json()["reports_total"] == 2


async def test_summary_of_a_user_without_reports_is_empty(
    committing_client: httpx.AsyncClient, user_id: int
) -> None:
    response = await committing_client.get(f"/internal/users/{user_id}/reports-summary")

    assert response.json() == {"reports_total": 0, "reports_pending": 0, "recent_reports": []}


async def test_file_is_409_until_done_then_the_pdf_and_404_for_another_user(
    client: httpx.AsyncClient, session: AsyncSession, new_user_id: Callable[[], int]
) -> None:
    owner, other = new_user_id(), new_user_id()
    report = (await client.post(reports_url(owner), json=BODY)).json()
    file_url = f"{reports_url(owner)}/{report['id']}/file"

    pending = await client.get(file_url)
    await session.execute(
        text("INSERT INTO jobs.report_files (report_id, content) VALUES (:id, :c)"),
        {"id": UUID(report["id"]), "c": b"%PDF-1.4 test"},
    )
    still_running = await client.get(file_url)
    await session.execute(
        text("UPDATE jobs.reports SET status = 'done', completed_at = now() WHERE id = :id"),
        {"id": UUID(report["id"])},
    )
    done = await client.get(file_url)
    foreign = await client.get(f"{reports_url(other)}/{report['id']}/file")

    assert pending.status_code == still_running.status_code == 409
    assert pending.json() == {"error": "conflict", "detail": "report is queued, not done"}
    assert done.status_code == 200
    assert done.headers["content-type"] == "application/pdf"
    assert done.content == b"%PDF-1.4 test"
    assert foreign.status_code == 404


async def test_unreachable_broker_marks_the_report_failed_and_answers_503(
    settings: Settings, serve: Any, user_id: int
) -> None:
    dead_broker = f"redis://127.0.0.1:{free_port()}/0"  # free: nothing listens there
    celery = CelerySettings(broker_url=dead_broker, redispatch=False)
    app = create_app(settings.model_copy(update={"celery": celery}))
    async with serve(app) as (client, _):
        response = await client.post(reports_url(user_id), json=BODY)
        listed = await client.get(reports_url(user_id))

    assert response.status_code == 503
    assert response.json()["error"] == "service_unavailable"
    [report] = listed.json()["items"]
    assert report["status"] == "failed"
    assert report["id"] in response.json()["detail"]
