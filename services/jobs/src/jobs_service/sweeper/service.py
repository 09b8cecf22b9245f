"""The sweeper: publish again the jobs whose message the broker lost; end those owed too long.

PostgreSQL, not the broker, is the record of what is owed: a render while a report is queued or
running, a delivery while its row is neither delivered nor given up. Each owed row carries
`touched_at`, the last time its job moved (created, taken by a worker, attempted, retried,
published again). A message can vanish while its job is owed:
- kombu's Redis transport takes a message off the list (BRPOP) before it records it as
  unacknowledged, so a worker SIGKILLed in between loses it for good (tests/faults/
  test_worker_killed.py times its kill to land there);
- an API process that dies between its commit and its publish never sends one.

The jobs API runs the sweeper every `sweep_interval_s`. An owed row that has not moved for
`stalled_after_s` is published again, but only while the queue is empty: behind a backlog an old
row may just be waiting its turn, and publishing it again would only grow the backlog (so a
queue that never empties holds a lost job until it does). The wait is at least two visibility
timeouts, so a dead worker's unacknowledged messages are the broker's to hand out again first.
Every task is idempotent, so the rare double (a message in a worker's hand, not yet claimed, at
the moment of a sweep) costs a little work and sends nothing twice. Several API processes may
sweep at once: rows are claimed with SKIP LOCKED and their touched_at moved, so one publishes.

Nothing stays owed forever: a report not finished `give_up_after_s` after it was asked for is
failed, and a delivery still owed that long after its report was done is given up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from uuid import UUID

from prometheus_client import Counter
from service_common.cache import Cache
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs_service.reports.queue import DELIVERY_TASKS, RENDER_TASK, Channel, ReportQueue
from jobs_service.reports.service import invalidate_summary
from jobs_service.settings import CelerySettings
from jobs_service.sweeper import repository

log = logging.getLogger(__name__)

REDISPATCHED = Counter(
    "jobs_redispatched_total",
    "Owed jobs the sweeper published again (their message was lost)",
    ["task"],
)
ENDED = Counter("jobs_overdue_ended_total", "Owed jobs the sweeper ended as overdue", ["kind"])
BATCH = 100  # rows claimed per kind and sweep; more wait for the next sweep


@dataclass(frozen=True, slots=True)
class Sweep:
    """What one sweep did."""

    renders: list[UUID] = field(default_factory=list)
    deliveries: list[tuple[UUID, Channel]] = field(default_factory=list)
    waiting: int = 0  # messages in the queue when stalled rows were found (then none is sent)
    failed_reports: int = 0  # overdue
    given_up_deliveries: int = 0  # overdue


@dataclass(frozen=True, slots=True)
class Sweeper:
    """Publish again what stalled, end what is overdue: one `sweep()` at a time."""

    sessions: async_sessionmaker[AsyncSession]
    queue: ReportQueue
    cache: Cache
    settings: CelerySettings

    async def sweep(self) -> Sweep:
        """Run one sweep over every owed job."""
        stalled_after_s = self.settings.stalled_after_s
        async with self.sessions() as session:
            if not await repository.any_stalled(session, older_than_s=stalled_after_s):
                return Sweep()
            users, given_up = await repository.end_overdue(
                session, older_than_s=self.settings.give_up_after_s
            )
            await session.commit()
        await self._record_overdue(users, given_up)
        waiting = await self.queue.waiting()
        if waiting:
            return Sweep(
                waiting=waiting, failed_reports=len(users), given_up_deliveries=len(given_up)
            )
        async with self.sessions() as session:
            renders = await repository.claim_stalled_reports(
                session, older_than_s=stalled_after_s, limit=BATCH
            )
            deliveries = await repository.claim_stalled_deliveries(
                session, older_than_s=stalled_after_s, limit=BATCH
            )
            await session.commit()
        await self._publish(renders, deliveries)
        return Sweep(
            renders=renders,
            deliveries=deliveries,
            failed_reports=len(users),
            given_up_deliveries=len(given_up),
        )

    async def run(self) -> None:
        """Sweep every `sweep_interval_s` until cancelled; a failed sweep is tried again."""
        interval = self.settings.sweep_interval_s
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sweep()
            except Exception as exc:  # noqa: BLE001 - the DB or the broker away: next time
                log.warning("sweep failed, trying again in %s s: %r", interval, exc)

    async def _publish(self, renders: list[UUID], deliveries: list[tuple[UUID, Channel]]) -> None:
        # A publish that fails leaves its row claimed: it is tried again a stall period later.
        for report_id in renders:
            await self.queue.enqueue_render(report_id)
            REDISPATCHED.labels(RENDER_TASK).inc()
        for report_id, channel in deliveries:
            await self.queue.enqueue_delivery(report_id, channel)
            REDISPATCHED.labels(DELIVERY_TASKS[channel]).inc()
        if renders or deliveries:
            names = [str(r) for r in renders] + [f"{r}/{c}" for r, c in deliveries]
            log.warning(
                "published again %d render(s) and %d delivery(ies) that had not moved for %s s: %s",
                len(renders), len(deliveries), self.settings.stalled_after_s, ", ".join(names),
            )  # fmt: skip

    async def _record_overdue(self, users: list[int], given_up: list[tuple[UUID, Channel]]) -> None:
        for user_id in set(users):
            await invalidate_summary(cache=self.cache, user_id=user_id)
        ENDED.labels("report").inc(len(users))
        ENDED.labels("delivery").inc(len(given_up))
        if users or given_up:
            log.error(
                "ended %d report(s) and %d delivery(ies) still owed after %s s",
                len(users), len(given_up), self.settings.give_up_after_s,
            )  # fmt: skip


@asynccontextmanager
async def sweeping(sweeper: Sweeper) -> AsyncIterator[None]:
    """Run the sweeper in the background for the life of the block (not in eager mode)."""
    if sweeper.settings.eager or not sweeper.settings.redispatch:
        yield
        return
    task = asyncio.create_task(sweeper.run(), name="jobs-sweeper")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
