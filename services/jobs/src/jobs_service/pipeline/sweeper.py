"""The sweeper: publish again the jobs whose message the broker lost.

PostgreSQL, not the broker, is the record of what is owed: a render while a report is queued or
running, a delivery while its row is neither delivered nor given up. Each owed row carries
`touched_at`, the last time its job moved (created, taken by a worker, attempted, published
again). A message can vanish while its job is owed:
- kombu's Redis transport takes a message off the list (BRPOP) before it records it as
  unacknowledged, so a worker SIGKILLed in between loses it for good (tests/faults/
  test_worker_killed.py kills at that moment);
- an API process that dies between its commit and its publish never sends one.

The jobs API runs `run_sweeper` every `sweep_interval_s`. An owed row that has not moved for
`stalled_after_s` is published again, but only while the queue is empty: behind a backlog an old
row may just be waiting its turn, and publishing it again would only grow the backlog. The wait
is longer than the visibility timeout, so a dead worker's unacknowledged messages are the
broker's to hand out again first. Every task is idempotent, so the rare double (a message in a
worker's hand, not yet claimed, at the moment of a sweep) costs a little work and sends nothing
twice. Several API processes may sweep at once: each row is claimed with SKIP LOCKED and its
touched_at moved, so one of them publishes it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from uuid import UUID

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs_service.pipeline import repository
from jobs_service.reports.queue import DELIVERY_TASKS, RENDER_TASK, Channel, ReportQueue
from jobs_service.settings import CelerySettings

log = logging.getLogger(__name__)

REDISPATCHED = Counter(
    "jobs_redispatched_total",
    "Owed jobs the sweeper published again (their message was lost)",
    ["task"],
)
BATCH = 100  # rows claimed per kind and sweep; more wait for the next sweep


@dataclass(frozen=True, slots=True)
class Sweep:
    """What one sweep did."""

    renders: list[UUID] = field(default_factory=list)
    deliveries: list[tuple[UUID, Channel]] = field(default_factory=list)
    waiting: int = 0  # messages in the queue when stalled rows were found (then nothing is sent)


async def sweep_once(
    *, sessions: async_sessionmaker[AsyncSession], queue: ReportQueue, stalled_after_s: float
) -> Sweep:
    """Publish again every owed job that has not moved for `stalled_after_s`, if none waits."""
    async with sessions() as session:
        if not await repository.any_stalled(session, older_than_s=stalled_after_s):
            return Sweep()
    waiting = await queue.waiting()
    if waiting:
        return Sweep(waiting=waiting)
    async with sessions() as session:
        renders = await repository.claim_stalled_reports(
            session, older_than_s=stalled_after_s, limit=BATCH
        )
        deliveries = await repository.claim_stalled_deliveries(
            session, older_than_s=stalled_after_s, limit=BATCH
        )
        await session.commit()
    # A publish that fails leaves its row claimed: it is tried again `stalled_after_s` later.
    for report_id in renders:
        await queue.enqueue_render(report_id)
        REDISPATCHED.labels(RENDER_TASK).inc()
    for report_id, channel in deliveries:
        await queue.enqueue_delivery(report_id, channel)
        REDISPATCHED.labels(DELIVERY_TASKS[channel]).inc()
    if renders or deliveries:
        log.warning(
            "published again %d render(s) and %d delivery(ies) that had not moved for %s s: %s",
            len(renders), len(deliveries), stalled_after_s,
            ", ".join([str(r) for r in renders] + [f"{r}/{c}" for r, c in deliveries]),
        )  # fmt: skip
    return Sweep(renders, deliveries)


async def run_sweeper(
    *, sessions: async_sessionmaker[AsyncSession], queue: ReportQueue, settings: CelerySettings
) -> None:
    """Sweep every `sweep_interval_s` until cancelled; a failed sweep is logged and tried again."""
    while True:
        await asyncio.sleep(settings.sweep_interval_s)
        try:
            await sweep_once(
                sessions=sessions, queue=queue, stalled_after_s=settings.stalled_after_s
            )
        except Exception as exc:  # noqa: BLE001 - the DB or the broker away: next time
            log.warning("sweep failed, trying again in %s s: %r", settings.sweep_interval_s, exc)


@asynccontextmanager
async def sweeping(
    *, sessions: async_sessionmaker[AsyncSession], queue: ReportQueue, settings: CelerySettings
) -> AsyncIterator[None]:
    """Run the sweeper in the background for the life of the block (not in eager mode)."""
    if settings.eager or not settings.redispatch:
        yield
        return
    task = asyncio.create_task(
        run_sweeper(sessions=sessions, queue=queue, settings=settings), name="jobs-sweeper"
    )
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
