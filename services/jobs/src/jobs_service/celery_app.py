"""Build the Celery app of the jobs service from its settings.

Delivery guarantees, and why each option is set:
- `task_acks_late`: a message is acknowledged when its task has finished, not when it starts,
  so a job whose worker dies is not lost. The tasks are idempotent, because a job can run twice.
- `task_reject_on_worker_lost`: when a prefork child dies mid-task, the parent requeues the
  message instead of acknowledging it as failed.
- `worker_prefetch_multiplier=1`: a worker reserves one message per process, so a killed worker
  holds few jobs hostage and a slow render does not hold a queue of others.
- `visibility_timeout` (Redis transport): a message taken but never acknowledged (the whole
  worker was SIGKILLed) is handed out again once this old. Kombu defaults to one hour; the
  default here is 60 s, several times the longest task (a 500-event render, a 10 s SMTP timeout,
  a 5 s webhook timeout), and a retry's countdown is kept below it (see CelerySettings). Tests
  lower it through JOBS_CELERY__VISIBILITY_TIMEOUT_S. Restore sweeps run every few seconds
  instead of kombu's ~100 s, so a new worker finds an orphaned job soon after it expires. A
  message the transport lost outright (popped, never recorded) is the sweeper's: see
  sweeper/service.py.
- results are ignored: callers read a report's status from PostgreSQL, not from Celery.
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from jobs_service.settings import Settings
from jobs_service.tasks import register_tasks


class JobsCelery(Celery):  # type: ignore[misc]  # celery ships no type hints
    """A Celery app that carries the settings its tasks read."""

    settings: Settings


def create_celery(settings: Settings) -> Any:
    """Create the Celery app with the jobs tasks registered; nothing connects yet."""
    app = JobsCelery("jobs_service", set_as_current=False)
    app.settings = settings
    celery = settings.celery
    app.conf.update(
        broker_url=settings.broker_url,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": celery.visibility_timeout_s,
            "unacked_restore_interval": max(1, min(10, celery.visibility_timeout_s // 4)),
            "unacked_restore_throttle": 1,
            # A worker killed during a sweep leaves the sweep lock behind until this expires.
            "unacked_mutex_expire": celery.visibility_timeout_s,
        },
        task_default_queue=celery.queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        result_backend=None,
        task_always_eager=celery.eager,
        task_eager_propagates=False,
        task_serializer="json",
        accept_content=["json"],
        # Publishing from a request must fail fast when Redis is away (the report is then
        # marked failed), not hang on kombu's default retry schedule.
        task_publish_retry_policy={
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
        },
        broker_connection_timeout=celery.publish_timeout_s,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )
    register_tasks(app)
    return app
