"""Hand report ids to the Celery queue from the API without blocking its event loop."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

RENDER_TASK = "reports.render"


class ReportQueue:
    """Enqueue `reports.render` by report id (never the row: the worker reads it fresh)."""

    def __init__(self, celery: Any) -> None:
        self._celery = celery

    async def enqueue_render(self, report_id: UUID) -> None:
        """Publish one render job; raise when the broker cannot take it."""
        task = self._celery.tasks[RENDER_TASK]
        # Publishing is a blocking Redis round trip in kombu (and the whole job in eager mode),
        # so it runs in a worker thread.
        await asyncio.to_thread(task.apply_async, args=[str(report_id)])

    def close(self) -> None:
        """Release the broker connections of this process."""
        self._celery.close()
