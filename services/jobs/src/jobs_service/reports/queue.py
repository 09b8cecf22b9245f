"""Hand report jobs to the Celery queue from the API without blocking its event loop.

The task names are the contract between the API, which publishes, and the worker (tasks.py).
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal
from uuid import UUID

Channel = Literal["email", "webhook"]

RENDER_TASK = "reports.render"
DELIVERY_TASKS: dict[Channel, str] = {
    "email": "reports.send_email",
    "webhook": "reports.send_webhook",
}


class ReportQueue:
    """Publish jobs by report id (never the row: the worker reads it fresh)."""

    def __init__(self, celery: Any) -> None:
        self._celery = celery

    async def enqueue_render(self, report_id: UUID) -> None:
        """Publish one render job; raise when the broker cannot take it."""
        await self._publish(RENDER_TASK, report_id)

    async def enqueue_delivery(self, report_id: UUID, channel: Channel) -> None:
        """Publish one delivery job; raise when the broker cannot take it."""
        await self._publish(DELIVERY_TASKS[channel], report_id)

    async def waiting(self) -> int:
        """Return how many messages wait in the queue (not counting those in a worker's hand)."""
        return await asyncio.to_thread(self._waiting)

    def close(self) -> None:
        """Release the broker connections of this process."""
        self._celery.close()

    async def _publish(self, task_name: str, report_id: UUID) -> None:
        task = self._celery.tasks[task_name]
        # Publishing is a blocking Redis round trip in kombu (and the whole job in eager mode),
        # so it runs in a worker thread.
        await asyncio.to_thread(task.apply_async, args=[str(report_id)])

    def _waiting(self) -> int:
        queue = self._celery.conf.task_default_queue
        with self._celery.pool.acquire(block=True) as connection:
            try:
                declared = connection.default_channel.queue_declare(queue=queue, passive=True)
            except connection.channel_errors:
                return 0  # the broker knows no such queue (Redis keeps no key for an empty list)
            return int(declared.message_count)
