"""The sweeper's rules, on real PostgreSQL and a real Redis queue that nothing consumes.

Rows are written as a job would leave them whose message was lost: owed, untouched for an hour.
Other tests leave owed rows in this database too, so each test looks only at its own ids.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest
from jobs_service.celery_app import create_celery
from jobs_service.reports.queue import ReportQueue
from jobs_service.settings import CelerySettings, Settings
from jobs_service.sweeper.service import Sweeper
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

NOW = "now()"
HOUR_AGO = "now() - interval '1 hour'"  # past redispatch_after_s (60 s)
DAYS_AGO = "now() - interval '2 days'"  # past give_up_after_s (one day)


@dataclass
class Swept:
    """A sweeper, the sessions of its database and the Redis list it publishes to."""

    sweeper: Sweeper
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    queue: str

    async def add_report(self, user_id: int, status: str, touched: str, created: str = NOW) -> UUID:
        report_id = uuid4()
        completed = created if status in ("done", "failed") else "NULL"
        await self._execute(
            "INSERT INTO jobs.reports "
            "(id, user_id, kind, days, status, touched_at, created_at, completed_at) "
            f"VALUES (:id, {user_id}, 'activity_pdf', 7, '{status}', {touched}, {created}, "
            f"{completed})",
            id=report_id,
        )
        return report_id

    async def add_delivery(self, report_id: UUID, channel: str, state: str = "owed") -> None:
        ended = {"owed": "NULL, NULL", "delivered": "now(), NULL", "given_up": "NULL, now()"}
        await self._execute(
            "INSERT INTO jobs.deliveries (report_id, channel, delivered_at, given_up_at, "
            f"touched_at) VALUES (:id, '{channel}', {ended[state]}, {HOUR_AGO})",
            id=report_id,
        )

    async def published(self) -> list[tuple[str, str]]:
        """Return (task name, report id) of each message waiting in the queue."""
        messages = []
        for raw in await self.redis.lrange(self.queue, 0, -1):
            message = json.loads(raw)
            args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            messages.append((message["headers"]["task"], args[0]))
        return messages

    async def row(self, query: str, report_id: UUID) -> Any:
        async with self.sessions() as session:
            return (await session.execute(text(query), {"id": report_id})).one()

    async def _execute(self, statement: str, **params: Any) -> None:
        async with self.sessions() as session:
            await session.execute(text(statement), params)
            await session.commit()


@pytest.fixture
async def swept(settings: Settings, state: dict[str, Any], redis: Redis) -> AsyncIterator[Swept]:
    name = f"sweeper-{secrets.token_hex(4)}"
    celery = CelerySettings(
        queue=name, visibility_timeout_s=10, retry_backoff_max_s=5, redispatch_after_s=60
    )
    queue = ReportQueue(create_celery(settings.model_copy(update={"celery": celery})))
    sweeper = Sweeper(state["db"].sessions, queue, state["cache"], celery)
    yield Swept(sweeper, state["db"].sessions, redis, name)
    queue.close()
    await redis.delete(name)


def ours(messages: list[tuple[str, str]], *ids: UUID) -> list[tuple[str, str]]:
    return sorted(m for m in messages if m[1] in {str(i) for i in ids})


async def test_an_owed_report_untouched_for_long_is_published_again_once(
    swept: Swept, user_id: int
) -> None:
    lost = await swept.add_report(user_id, "queued", HOUR_AGO)
    taken = await swept.add_report(user_id, "running", HOUR_AGO)
    fresh = await swept.add_report(user_id, "queued", NOW)
    done = await swept.add_report(user_id, "done", HOUR_AGO)
    failed = await swept.add_report(user_id, "failed", HOUR_AGO)

    first = await swept.sweeper.sweep()
    messages = await swept.published()
    await swept.redis.delete(swept.queue)
    second = await swept.sweeper.sweep()

    assert {lost, taken} <= set(first.renders)
    assert not {fresh, done, failed} & set(first.renders)
    published = ours(messages, lost, taken, fresh, done, failed)
    assert published == sorted([("reports.render", str(lost)), ("reports.render", str(taken))])
    # Claiming moved touched_at: the next sweep leaves them to the worker.
    assert not {lost, taken} & set(second.renders)


async def test_owed_deliveries_are_published_again_but_not_delivered_or_given_up_ones(
    swept: Swept, user_id: int
) -> None:
    owed = await swept.add_report(user_id, "done", HOUR_AGO)
    await swept.add_delivery(owed, "email")
    await swept.add_delivery(owed, "webhook")
    settled = await swept.add_report(user_id, "done", HOUR_AGO)
    await swept.add_delivery(settled, "email", "delivered")
    await swept.add_delivery(settled, "webhook", "given_up")

    sweep = await swept.sweeper.sweep()

    assert {(owed, "email"), (owed, "webhook")} <= set(sweep.deliveries)
    assert not [d for d in sweep.deliveries if d[0] == settled]
    assert ours(await swept.published(), owed, settled) == [
        ("reports.send_email", str(owed)),
        ("reports.send_webhook", str(owed)),
    ]


async def test_nothing_is_published_while_messages_wait_in_the_queue(
    swept: Swept, user_id: int
) -> None:
    behind = await swept.add_report(user_id, "queued", HOUR_AGO)
    waiting = uuid4()
    await swept.sweeper.queue.enqueue_render(waiting)

    sweep = await swept.sweeper.sweep()

    assert (sweep.renders, sweep.deliveries, sweep.waiting) == ([], [], 1)
    assert await swept.published() == [("reports.render", str(waiting))]
    row = await swept.row(
        "SELECT now() - touched_at AS age FROM jobs.reports WHERE id = :id", behind
    )
    assert row.age.total_seconds() > 3000  # untouched: the first sweep after the backlog takes it


async def test_jobs_owed_for_longer_than_give_up_after_are_ended_not_published(
    swept: Swept, user_id: int
) -> None:
    old = await swept.add_report(user_id, "queued", HOUR_AGO, created=DAYS_AGO)
    old_done = await swept.add_report(user_id, "done", HOUR_AGO, created=DAYS_AGO)
    await swept.add_delivery(old_done, "webhook")
    await swept.sweeper.queue.enqueue_render(uuid4())  # ended even behind a backlog

    sweep = await swept.sweeper.sweep()

    report = await swept.row("SELECT status, error FROM jobs.reports WHERE id = :id", old)
    delivery = await swept.row(
        "SELECT given_up_at, last_error FROM jobs.deliveries WHERE report_id = :id", old_done
    )
    assert (report.status, report.error) == ("failed", "not finished within 86400 s")
    assert delivery.given_up_at is not None
    assert delivery.last_error == "not finished within 86400 s"
    assert sweep.failed_reports >= 1 and sweep.given_up_deliveries >= 1
    assert ours(await swept.published(), old, old_done) == []


async def test_an_empty_queue_unknown_to_the_broker_counts_as_empty(swept: Swept) -> None:
    assert await swept.sweeper.queue.waiting() == 0
