"""The sweeper's rules, on real PostgreSQL and a real Redis queue that nothing consumes.

Rows are written as a job would leave them whose message was lost: owed, untouched for an hour.
Other tests leave owed rows in this database too, so each test looks only at its own ids.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID, uuid4

import pytest
from jobs_service.celery_app import create_celery
from jobs_service.pipeline.sweeper import sweep_once
from jobs_service.reports.queue import ReportQueue
from jobs_service.settings import CelerySettings, Settings
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

STALLED_AFTER_S = 60.0
HOUR_AGO = "now() - interval '1 hour'"


@pytest.fixture
async def queue(settings: Settings, redis: Redis) -> AsyncIterator[tuple[ReportQueue, str]]:
    """A ReportQueue on a queue of this test alone, emptied afterwards."""
    name = f"sweeper-{secrets.token_hex(4)}"
    celery = CelerySettings(queue=name)
    report_queue = ReportQueue(create_celery(settings.model_copy(update={"celery": celery})))
    yield report_queue, name
    report_queue.close()
    await redis.delete(name)


@pytest.fixture
def sessions(state: dict[str, Any]) -> async_sessionmaker[AsyncSession]:
    return state["db"].sessions  # type: ignore[no-any-return]


async def add_report(
    sessions: async_sessionmaker[AsyncSession], *, user_id: int, status: str, touched: str
) -> UUID:
    report_id = uuid4()
    async with sessions() as session:
        await session.execute(
            text(
                "INSERT INTO jobs.reports (id, user_id, kind, days, status, touched_at) "
                f"VALUES (:id, :user_id, 'activity_pdf', 7, :status, {touched})"
            ),
            {"id": report_id, "user_id": user_id, "status": status},
        )
        await session.commit()
    return report_id


async def add_delivery(
    sessions: async_sessionmaker[AsyncSession], report_id: UUID, channel: str, *, state: str
) -> None:
    ended = {"owed": "NULL, NULL", "delivered": "now(), NULL", "given_up": "NULL, now()"}[state]
    async with sessions() as session:
        await session.execute(
            text(
                "INSERT INTO jobs.deliveries "
                "(report_id, channel, delivered_at, given_up_at, touched_at) "
                f"VALUES (:id, :channel, {ended}, {HOUR_AGO})"
            ),
            {"id": report_id, "channel": channel},
        )
        await session.commit()


async def published(redis: Redis, queue: str) -> list[tuple[str, str]]:
    """Return (task name, report id) of each message waiting in the queue."""
    messages = []
    for raw in await redis.lrange(queue, 0, -1):
        message = json.loads(raw)
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        messages.append((message["headers"]["task"], args[0]))
    return messages


async def test_an_owed_report_untouched_for_long_is_published_again_once(
    sessions: Any, queue: tuple[ReportQueue, str], redis: Redis, user_id: int
) -> None:
    report_queue, name = queue
    lost = await add_report(sessions, user_id=user_id, status="queued", touched=HOUR_AGO)
    taken = await add_report(sessions, user_id=user_id, status="running", touched=HOUR_AGO)
    fresh = await add_report(sessions, user_id=user_id, status="queued", touched="now()")
    finished = [
        await add_report(sessions, user_id=user_id, status=status, touched=HOUR_AGO)
        for status in ("done", "failed")
    ]

    first = await sweep_once(sessions=sessions, queue=report_queue, stalled_after_s=STALLED_AFTER_S)
    messages = await published(redis, name)
    await redis.delete(name)
    second = await sweep_once(
        sessions=sessions, queue=report_queue, stalled_after_s=STALLED_AFTER_S
    )

    assert {lost, taken} <= set(first.renders)
    assert not {fresh, *finished} & set(first.renders)
    ours = [m for m in messages if m[1] in {str(r) for r in (lost, taken, fresh, *finished)}]
    assert sorted(ours) == sorted([("reports.render", str(lost)), ("reports.render", str(taken))])
    # Claiming moved touched_at: the next sweep leaves them to the worker.
    assert not {lost, taken} & set(second.renders)


async def test_owed_deliveries_are_published_again_but_not_delivered_or_given_up_ones(
    sessions: Any, queue: tuple[ReportQueue, str], redis: Redis, user_id: int
) -> None:
    report_queue, name = queue
    owed = await add_report(sessions, user_id=user_id, status="done", touched=HOUR_AGO)
    await add_delivery(sessions, owed, "email", state="owed")
    await add_delivery(sessions, owed, "webhook", state="owed")
    settled = await add_report(sessions, user_id=user_id, status="done", touched=HOUR_AGO)
    await add_delivery(sessions, settled, "email", state="delivered")
    await add_delivery(sessions, settled, "webhook", state="given_up")

    sweep = await sweep_once(sessions=sessions, queue=report_queue, stalled_after_s=STALLED_AFTER_S)

    assert {(owed, "email"), (owed, "webhook")} <= set(sweep.deliveries)
    assert not [d for d in sweep.deliveries if d[0] == settled]
    ours = [m for m in await published(redis, name) if m[1] in (str(owed), str(settled))]
    assert sorted(ours) == [("reports.send_email", str(owed)), ("reports.send_webhook", str(owed))]


async def test_nothing_is_published_while_messages_wait_in_the_queue(
    sessions: Any, queue: tuple[ReportQueue, str], redis: Redis, user_id: int
) -> None:
    report_queue, name = queue
    behind = await add_report(sessions, user_id=user_id, status="queued", touched=HOUR_AGO)
    waiting = uuid4()
    await report_queue.enqueue_render(waiting)

    sweep = await sweep_once(sessions=sessions, queue=report_queue, stalled_after_s=STALLED_AFTER_S)

    assert (sweep.renders, sweep.deliveries, sweep.waiting) == ([], [], 1)
    assert await published(redis, name) == [("reports.render", str(waiting))]
    async with sessions() as session:
        age = await session.scalar(
            text(
                "SELECT now() - touched_at > interval '50 minutes' FROM jobs.reports WHERE id = :id"
            ),
            {"id": behind},
        )
    assert age is True  # left untouched, so the first sweep after the backlog takes it


async def test_an_empty_queue_unknown_to_the_broker_counts_as_empty(
    queue: tuple[ReportQueue, str],
) -> None:
    report_queue, _ = queue
    assert await report_queue.waiting() == 0
