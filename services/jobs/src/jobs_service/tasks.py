"""Celery tasks `reports.*`: thin sync shells that run the async jobs on the process's loop.

Tasks take a report id, never a row: the worker reads the current state from PostgreSQL, and a
re-delivered message (`acks_late`) re-runs a job that is safe to run twice (see pipeline/).
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any
from uuid import UUID

from celery.utils.time import get_exponential_backoff_interval
from service_common.http import PeerError

from jobs_service.pipeline.delivery import DeliveryFailed, deliver_email, deliver_webhook
from jobs_service.pipeline.peers import TRANSIENT_ERRORS
from jobs_service.pipeline.render import fail_report, render_report
from jobs_service.reports.queue import DELIVERY_TASKS, RENDER_TASK
from jobs_service.runtime import current_runtime
from jobs_service.settings import Settings

log = logging.getLogger(__name__)


def register_tasks(app: Any) -> None:
    """Register the report tasks on a Celery app whose `settings` are the service's."""
    celery = app.settings.celery
    retries = {
        "max_retries": celery.max_retries,
        "retry_backoff": celery.retry_backoff_s,
        "retry_backoff_max": celery.retry_backoff_max_s,
        "retry_jitter": True,
    }
    # Registered by call rather than as decorators: Celery is untyped, and this keeps the task
    # functions typed and the retry policy read from settings.
    app.task(name=RENDER_TASK, bind=True, **retries)(render)
    delivery_errors = (DeliveryFailed, *TRANSIENT_ERRORS)
    delivery = {"bind": True, "autoretry_for": delivery_errors, **retries}
    app.task(name=DELIVERY_TASKS["email"], **delivery)(send_email)
    app.task(name=DELIVERY_TASKS["webhook"], **delivery)(send_webhook)


def render(task: Any, report_id: str) -> None:
    """Render a report, then enqueue the deliveries it owes."""
    settings: Settings = task.app.settings
    runtime = current_runtime(settings)
    rid = UUID(report_id)
    try:
        channels = runtime.run(partial(render_report, report_id=rid))
    except PeerError as exc:
        # The user service answered 4xx (the user is gone): asking again will not help.
        runtime.run(partial(fail_report, report_id=rid, error=f"user service: {exc.detail}"))
        return
    except Exception as exc:  # noqa: BLE001 - a peer, the DB or Redis away: retry, then fail
        if task.request.retries >= task.max_retries:
            log.error("report %s failed after %d retries: %r", rid, task.request.retries, exc)
            runtime.run(partial(fail_report, report_id=rid, error=f"gave up: {exc!r}"[:500]))
            return
        countdown = get_exponential_backoff_interval(
            factor=task.retry_backoff,
            retries=task.request.retries,
            maximum=task.retry_backoff_max,
            full_jitter=True,
        )
        raise task.retry(exc=exc, countdown=countdown) from exc
    for channel in channels:
        task.app.tasks[DELIVERY_TASKS[channel]].apply_async(args=[report_id])


def send_email(task: Any, report_id: str) -> None:
    """Email a finished report's PDF to its owner, once."""
    current_runtime(task.app.settings).run(partial(deliver_email, report_id=UUID(report_id)))


def send_webhook(task: Any, report_id: str) -> None:
    """POST the signed report.done webhook to the owner's endpoint, once."""
    current_runtime(task.app.settings).run(partial(deliver_webhook, report_id=UUID(report_id)))
