"""A Celery worker is SIGKILLed with reports in flight: a new worker finishes each one once."""

from __future__ import annotations

import signal
import time
from collections import Counter

import httpx
import pytest
import redis
from fault_support import Figures, own_after_stack, register_and_login, wait_until
from stack_launcher.records import read_records, wait_for_records

pytestmark = pytest.mark.slow

USERS = 4
REPORTS_PER_USER = 15  # 60 reports in flight
# A message a dead worker held comes back once this old (the default is 60 s; see celery_app).
VISIBILITY_TIMEOUT_S = 8


def test_reports_of_a_sigkilled_worker_all_end_done_once(figures: Figures) -> None:
    options = {
        "JOBS_CELERY__VISIBILITY_TIMEOUT_S": str(VISIBILITY_TIMEOUT_S),
        "JOBS_CELERY__RETRY_BACKOFF_MAX_S": "4",
    }
    with own_after_stack("worker", extra_env=options) as stack:
        client = httpx.Client(base_url=stack.base_url, timeout=30, trust_env=False)
        hooks_base = stack.config.webhook_base_url
        users = []
        for index in range(USERS):
            user_id, auth = register_and_login(client, f"worker{index}")
            prefs = {"email_notifications": True, "webhook_url": f"{hooks_base}/kill-{user_id}"}
            assert client.put("/v1/me/prefs", json=prefs, headers=auth).status_code == 200
            users.append((user_id, auth))

        reports: dict[str, tuple[int, dict[str, str]]] = {}
        for _ in range(REPORTS_PER_USER):
            for user_id, auth in users:
                response = client.post(
                    "/v1/reports", json={"kind": "activity_pdf", "days": 30}, headers=auth
                )
                assert response.status_code == 202, response.text
                reports[response.json()["id"]] = (user_id, auth)
        with redis.Redis.from_url(stack.redis_url) as broker:
            # Until the worker holds jobs in hand (taken, not acknowledged).
            wait_until(lambda: broker.hlen("unacked") > 0, timeout=30, interval=0.02)
            held = broker.hlen("unacked")
        statuses = Counter(_status(client, rid, auth) for rid, (_, auth) in reports.items())
        killed_at = time.monotonic()
        stack.supervisor.kill("jobs_worker", signal.SIGKILL)
        wait_until(lambda: not stack.supervisor.is_running("jobs_worker"), timeout=10)
        stack.supervisor.restart("jobs_worker")

        def all_final() -> bool:
            return all(
                _status(client, rid, auth) in ("done", "failed")
                for rid, (_, auth) in reports.items()
            )

        wait_until(all_final, timeout=150, interval=1.0)
        finished_after = time.monotonic() - killed_at
        final = Counter(_status(client, rid, auth) for rid, (_, auth) in reports.items())
        # Deliveries are tasks of their own, queued when a report is done: wait for each, then
        # for the queue to drain, so a late re-delivery would still show up as a duplicate.
        delivered = True
        try:
            wait_for_records(stack.smtp_record, timeout=60, count=len(reports))
            wait_for_records(stack.webhook_record, timeout=60, count=len(reports))
        except TimeoutError:
            delivered = False
        with redis.Redis.from_url(stack.redis_url) as broker:
            wait_until(
                lambda: broker.llen("reports") == 0 and broker.hlen("unacked") == 0, timeout=60
            )
        drained_after = time.monotonic() - killed_at
        mails = [_report_in(m["body_text"], reports) for m in read_records(stack.smtp_record)]
        hooks = [h["body"]["report_id"] for h in read_records(stack.webhook_record)]
        hook_ids = [h["headers"].get("x-webhook-id") for h in read_records(stack.webhook_record)]
        client.close()
        exits = stack.supervisor.unexpected_exits

    mail_count, hook_count = Counter(mails), Counter(hooks)
    lost = [rid for rid in reports if mail_count[rid] == 0 or hook_count[rid] == 0]
    figures.record(
        fault="the Celery worker's process group SIGKILLed with reports queued and in hand; "
        "a new worker started at once",
        load=f"{len(reports)} reports requested by {USERS} users, each owing an email and a "
        "webhook",
        reports=len(reports),
        in_hand_at_kill=held,
        statuses_at_kill=dict(statuses),
        statuses_final=dict(final),
        all_final_after_s=round(finished_after, 1),
        all_delivered=delivered,
        queue_drained_after_s=round(drained_after, 1),
        jobs_lost=len(lost),
        reports_not_done=final.get("failed", 0) + final.get("queued", 0) + final.get("running", 0),
        emails=len(mails),
        webhooks=len(hooks),
        duplicate_emails=sum(n - 1 for n in mail_count.values() if n > 1),
        duplicate_webhooks=sum(n - 1 for n in hook_count.values() if n > 1),
        distinct_webhook_ids=len(set(hook_ids)),
        processes_died=[report.name for report in exits],
    )

    assert not exits, [str(report) for report in exits]
    assert final == Counter({"done": len(reports)}), final
    assert not lost
    for rid in reports:
        assert mail_count[rid] == 1, f"report {rid}: {mail_count[rid]} emails"
        assert hook_count[rid] == 1, f"report {rid}: {hook_count[rid]} webhooks"


def _status(client: httpx.Client, report_id: str, auth: dict[str, str]) -> str:
    response = client.get(f"/v1/reports/{report_id}", headers=auth)
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status


def _report_in(text: str, reports: dict[str, object]) -> str | None:
    return next((rid for rid in reports if rid in text), None)
