"""The Celery worker entry point: `celery -A jobs_service.worker worker`.

Settings come from JOBS_* environment variables, as for the HTTP service.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import worker_process_shutdown, worker_shutdown

from jobs_service.celery_app import create_celery
from jobs_service.runtime import close_runtimes
from jobs_service.settings import Settings

celery_app = create_celery(Settings())

# One line per peer request at INFO drowns the task log; failures are logged by the tasks.
logging.getLogger("httpx").setLevel(logging.WARNING)


def _close_runtimes(**_: Any) -> None:
    # Prefork children get worker_process_shutdown; a solo worker only worker_shutdown.
    close_runtimes()


worker_process_shutdown.connect(_close_runtimes, weak=False)
worker_shutdown.connect(_close_runtimes, weak=False)
