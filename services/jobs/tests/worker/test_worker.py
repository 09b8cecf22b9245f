"""The real path: API -> Redis -> a Celery worker process -> PostgreSQL, SMTP sink, webhooks."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from jobs_service.app import create_app
from jobs_service.celery_app import create_celery
from jobs_service.settings import CelerySettings, Settings
from pypdf import PdfReader
from redis.asyncio import Redis
from sqlalchemy import text
from stack_launcher.net import free_port
from stack_launcher.records import Record, read_records, wait_for_records_async

pytestmark = pytest.mark.slow

BODY = {"kind": "activity_pdf", "days": 7}


async def request_report(client: httpx.AsyncClient, user_id: int) -> str:
    response = await client.post(f"/internal/users/{user_id}/reports", json=BODY)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    report_id: str = response.json()["id"]
    return report_id


async def wait_for_status(
    client: httpx.AsyncClient, user_id: int, report_id: str, status: str, timeout: float = 20
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = await client.get(f"/internal/users/{user_id}/reports/{report_id}")
        report: dict[str, Any] = response.json()
        if report["status"] == status:
            return report
        if time.monotonic() > deadline:
            raise TimeoutError(f"report {report_id} is {report['status']}, not {status}")
        await asyncio.sleep(0.1)


async def wait_until_drained(redis: Redis, queue: str, timeout: float = 20) -> None:
    """Wait until no message waits in the queue and none is in a worker's hands, twice running."""
    deadline = time.monotonic() + timeout
    calm = 0
    while calm < 2:
        # acks_late: a message stays in kombu's `unacked` hash until its task has finished.
        busy = await redis.llen(queue) + await redis.hlen("unacked")
        calm = calm + 1 if busy == 0 else 0
        if time.monotonic() > deadline:
            raise TimeoutError(f"queue {queue} still busy after {timeout} s")
        await asyncio.sleep(0.3)


async def delivery_row(api: Any, report_id: str) -> Any:
    async with api.sessions() as session:
        query = (
            "SELECT attempts, delivered_at, given_up_at, last_error FROM jobs.deliveries "
            "WHERE report_id = :id AND channel = 'webhook'"
        )
        return (await session.execute(text(query), {"id": UUID(report_id)})).one()


def to_path(path: str) -> Callable[[Record], bool]:
    return lambda record: bool(record["path"] == path)


def to_recipient(email: str) -> Callable[[Record], bool]:
    return lambda record: bool(record["rcpt_tos"] == [email])


async def test_report_goes_queued_to_done_with_pdf_email_webhook_and_event(
    api: Any, peers: Any, user_id: int
) -> None:
    user = peers.users.add_user(
        user_id,
        email_notifications=True,
        webhook_url=f"{peers.webhook_url}/user-{user_id}",
        events=60,
    )

    summary_url = f"/internal/users/{user_id}/reports-summary"
    report_id = await request_report(api.client, user_id)
    pending = (await api.client.get(summary_url)).json()  # now cached, for up to 30 s
    done = await wait_for_status(api.client, user_id, report_id, "done")
    finished = (await api.client.get(summary_url)).json()  # the worker dropped the cached one
    pdf = await api.client.get(f"/internal/users/{user_id}/reports/{report_id}/file")
    [mail] = await wait_for_records_async(peers.smtp_record, to_recipient(user["email"]))
    [hook] = await wait_for_records_async(peers.webhook_record, to_path(f"/hooks/user-{user_id}"))

    assert done["completed_at"] is not None
    assert pending["reports_pending"] == 1
    assert finished["reports_pending"] == 0
    assert finished["recent_reports"] == [done]
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    pages = PdfReader(io.BytesIO(pdf.content)).pages
    assert len(pages) >= 2
    assert "The last 7 days: 28 events" in pages[0].extract_text()  # one event per 6 hours
    assert mail["subject"] == "Your activity report is ready"
    assert mail["mail_from"] == "reports@refactor-lab.test"
    assert mail["has_attachment"] is True
    assert report_id in mail["body_text"]
    assert hook["signature_valid"] is True
    assert hook["headers"]["x-webhook-id"] == report_id
    completed_at = hook["body"].pop("completed_at")
    assert datetime.fromisoformat(completed_at) == datetime.fromisoformat(done["completed_at"])
    assert hook["body"] == {
        "event": "report.done",
        "report_id": report_id,
        "user_id": user_id,
        "kind": "activity_pdf",
        "days": 7,
    }
    event = {
        "kind": "report.done",
        "actor_id": user_id,
        "payload": {"report_id": report_id, "days": 7},
    }
    assert peers.users.posted.count((user_id, event)) == 1


async def test_webhook_is_retried_with_backoff_after_503s(
    api: Any, peers: Any, user_id: int
) -> None:
    peers.users.add_user(
        user_id, email_notifications=False, webhook_url=f"{peers.flaky_webhook_url}/f-{user_id}"
    )

    report_id = await request_report(api.client, user_id)
    await wait_for_status(api.client, user_id, report_id, "done")
    attempts = await wait_for_records_async(
        peers.flaky_webhook_record,
        to_path(f"/hooks/f-{user_id}"),
        count=peers.fail_first + 1,
        timeout=20,
    )

    # The receiver records the 200 before the worker commits it: wait for the commit.
    deadline = time.monotonic() + 10
    while (row := await delivery_row(api, report_id)).delivered_at is None:
        assert time.monotonic() < deadline, f"not marked delivered after {row.attempts} attempts"
        await asyncio.sleep(0.1)

    assert [a["status"] for a in attempts] == [503] * peers.fail_first + [200]
    assert all(a["signature_valid"] for a in attempts)
    assert all(a["headers"]["x-webhook-id"] == report_id for a in attempts)
    assert (row.attempts, row.given_up_at, row.last_error) == (peers.fail_first + 1, None, None)


async def test_rerunning_the_tasks_of_a_done_report_sends_nothing_twice(
    api: Any, peers: Any, worker_settings: Settings, user_id: int
) -> None:
    path = f"/hooks/rerun-{user_id}"
    user = peers.users.add_user(
        user_id, email_notifications=True, webhook_url=f"{peers.webhook_url}/rerun-{user_id}"
    )
    report_id = await request_report(api.client, user_id)
    await wait_for_status(api.client, user_id, report_id, "done")
    await wait_for_records_async(peers.smtp_record, to_recipient(user["email"]))
    await wait_for_records_async(peers.webhook_record, to_path(path))
    await wait_until_drained(api.redis, worker_settings.celery.queue)

    celery = create_celery(worker_settings)
    try:
        for name in ("reports.render", "reports.send_email", "reports.send_webhook"):
            celery.tasks[name].apply_async(args=[report_id])
    finally:
        celery.close()
    await wait_until_drained(api.redis, worker_settings.celery.queue)

    mails = [m for m in read_records(peers.smtp_record) if to_recipient(user["email"])(m)]
    hooks = [h for h in read_records(peers.webhook_record) if to_path(path)(h)]
    done_events = [b for u, b in peers.users.posted if u == user_id and b["kind"] == "report.done"]
    assert (len(mails), len(hooks), len(done_events)) == (1, 1, 1)
    report = (await api.client.get(f"/internal/users/{user_id}/reports/{report_id}")).json()
    assert report["status"] == "done"


async def test_a_report_the_broker_never_got_is_published_again_and_finished_once(
    api: Any, peers: Any, worker_settings: Settings, user_id: int
) -> None:
    # The row of a job whose message was lost: the API died before publishing it, or a worker
    # was killed with it just popped off the list.
    user = peers.users.add_user(
        user_id, email_notifications=True, webhook_url=f"{peers.webhook_url}/lost-{user_id}"
    )
    report_id = uuid4()
    async with api.sessions() as session:
        await session.execute(
            text(
                "INSERT INTO jobs.reports (id, user_id, kind, days, touched_at) "
                "VALUES (:id, :user_id, 'activity_pdf', 7, now() - interval '1 hour')"
            ),
            {"id": report_id, "user_id": user_id},
        )
        await session.commit()

    await wait_for_status(api.client, user_id, str(report_id), "done")
    await wait_for_records_async(peers.smtp_record, to_recipient(user["email"]))
    await wait_for_records_async(peers.webhook_record, to_path(f"/hooks/lost-{user_id}"))
    await wait_until_drained(api.redis, worker_settings.celery.queue)

    mails = [m for m in read_records(peers.smtp_record) if to_recipient(user["email"])(m)]
    hooks = [h for h in read_records(peers.webhook_record) if to_path(f"/hooks/lost-{user_id}")(h)]
    assert (len(mails), len(hooks)) == (1, 1)


async def test_a_webhook_refused_with_a_4xx_is_given_up_and_never_sent_again(
    api: Any, peers: Any, worker_settings: Settings, user_id: int
) -> None:
    # The stand-in user service has no such route: it answers 404.
    peers.users.add_user(
        user_id, email_notifications=False, webhook_url=f"{peers.user_url}/no-such-hook"
    )
    report_id = await request_report(api.client, user_id)
    await wait_for_status(api.client, user_id, report_id, "done")
    await wait_until_drained(api.redis, worker_settings.celery.queue)

    celery = create_celery(worker_settings)
    try:  # as a re-delivered message, or the sweeper, would
        celery.tasks["reports.send_webhook"].apply_async(args=[report_id])
    finally:
        celery.close()
    await wait_until_drained(api.redis, worker_settings.celery.queue)

    row = await delivery_row(api, report_id)
    assert (row.attempts, row.delivered_at) == (1, None)
    assert row.given_up_at is not None
    assert "refused it with 404" in row.last_error


async def test_a_webhook_whose_endpoint_stays_down_is_given_up_after_max_attempts(
    api: Any, peers: Any, worker_settings: Settings, user_id: int
) -> None:
    down = f"http://127.0.0.1:{free_port()}/hooks"  # nothing listens: connection refused
    peers.users.add_user(user_id, email_notifications=False, webhook_url=down)
    report_id = await request_report(api.client, user_id)
    await wait_for_status(api.client, user_id, report_id, "done")

    deadline = time.monotonic() + 40  # six attempts, full-jitter backoff of at most 2 s between
    while (row := await delivery_row(api, report_id)).given_up_at is None:
        assert time.monotonic() < deadline, f"not given up after {row.attempts} attempts"
        await asyncio.sleep(0.2)

    assert (row.attempts, row.delivered_at) == (worker_settings.celery.max_attempts, None)
    assert "unreachable" in row.last_error


async def test_prefs_without_notifications_finish_without_deliveries(
    api: Any, peers: Any, user_id: int
) -> None:
    peers.users.add_user(user_id, email_notifications=False, webhook_url=None)

    report_id = await request_report(api.client, user_id)
    await wait_for_status(api.client, user_id, report_id, "done")

    async with api.sessions() as session:
        count = await session.scalar(
            text("SELECT count(*) FROM jobs.deliveries WHERE report_id = :id"),
            {"id": UUID(report_id)},
        )
    assert count == 0


async def test_report_of_a_user_the_user_service_does_not_know_fails(
    api: Any, user_id: int
) -> None:
    report_id = await request_report(api.client, user_id)
    failed = await wait_for_status(api.client, user_id, report_id, "failed")
    file = await api.client.get(f"/internal/users/{user_id}/reports/{report_id}/file")

    assert failed["completed_at"] is not None
    assert file.status_code == 409


async def test_eager_mode_runs_the_whole_job_inside_the_request(
    worker_settings: Settings, peers: Any, serve: Any, user_id: int
) -> None:
    celery = CelerySettings(eager=True, retry_backoff_max_s=2)
    app = create_app(worker_settings.model_copy(update={"celery": celery}))
    user = peers.users.add_user(
        user_id, email_notifications=True, webhook_url=f"{peers.webhook_url}/eager-{user_id}"
    )
    async with serve(app) as (client, _):
        report_id = await request_report(client, user_id)
        # No wait: by the time the request answered, the job had run.
        report = (await client.get(f"/internal/users/{user_id}/reports/{report_id}")).json()

    assert report["status"] == "done"
    assert len([m for m in read_records(peers.smtp_record) if to_recipient(user["email"])(m)]) == 1
    hooks = read_records(peers.webhook_record)
    assert len([h for h in hooks if to_path(f"/hooks/eager-{user_id}")(h)]) == 1


async def test_jobs_of_a_sigkilled_worker_come_back_and_finish_once(
    api: Any,
    peers: Any,
    workers: Any,
    worker_settings: Settings,
    new_user_id: Callable[[], int],
) -> None:
    users = [new_user_id() for _ in range(8)]
    for uid in users:
        peers.users.add_user(
            uid, email_notifications=True, webhook_url=f"{peers.webhook_url}/kill-{uid}", events=200
        )
    reports = {uid: await request_report(api.client, uid) for uid in users}
    deadline = time.monotonic() + 10
    while await api.redis.hlen("unacked") == 0:  # until the worker holds jobs in hand
        assert time.monotonic() < deadline, "the worker took no job"
        await asyncio.sleep(0.02)
    workers.kill("worker1")

    workers.start("worker2")
    for uid, report_id in reports.items():
        await wait_for_status(api.client, uid, report_id, "done", timeout=40)
    await wait_until_drained(api.redis, worker_settings.celery.queue, timeout=40)

    mails, hooks = read_records(peers.smtp_record), read_records(peers.webhook_record)
    for uid in users:
        assert len([m for m in mails if to_recipient(f"user{uid}@example.test")(m)]) == 1, uid
        assert len([h for h in hooks if to_path(f"/hooks/kill-{uid}")(h)]) == 1, uid
