"""A peer is down (503) or hangs (504): core_api answers in the error shape within its budget,
and no partial dashboard is cached to be served once the peer is back."""

from __future__ import annotations

import signal
import time

import httpx
import pytest
import redis
from fault_support import Figures, own_after_stack, register_and_login, wait_until

pytestmark = pytest.mark.slow

# core_api's budgets (core_api.settings): user 2 s, jobs 3 s. Bounds are generous on purpose.
WITHIN_S = 6.0
PROBES = 5


def test_a_down_or_hanging_peer_fails_fast_and_leaves_no_partial_dashboard(
    figures: Figures,
) -> None:
    with own_after_stack("downstream") as stack:
        client = httpx.Client(base_url=stack.base_url, timeout=30, trust_env=False)
        user_id, auth = register_and_login(client, "downstream")
        report = client.post("/v1/reports", json={"kind": "activity_pdf", "days": 3}, headers=auth)
        assert report.status_code == 202, report.text
        assert client.get("/v1/me/dashboard", headers=auth).json()["stats"]["reports_total"] == 1
        # The worker drops the user's views as it finishes the report: once it is done, read the
        # dashboard again so both views are cached before jobs goes down.
        report_url = f"/v1/reports/{report.json()['id']}"
        wait_until(
            lambda: client.get(report_url, headers=auth).json()["status"] == "done", timeout=30
        )
        assert client.get("/v1/me/dashboard", headers=auth).status_code == 200

        # jobs down: a warm dashboard is still read from the owners' views at the edge; once
        # the reports view is gone, the edge must ask jobs: connections refused -> 503.
        stack.supervisor.kill("jobs", signal.SIGKILL)
        wait_until(lambda: not stack.supervisor.is_running("jobs"), timeout=10)
        warm_while_jobs_down = _timed(client, "/v1/me/dashboard", auth)
        _drop_views(stack.redis_url, f"jobs:summary:{user_id}")
        down = [_timed(client, "/v1/me/dashboard", auth) for _ in range(PROBES)]
        reports_down = _timed(client, "/v1/reports", auth)
        # What does not need jobs still works.
        me_while_jobs_down = _timed(client, "/v1/me", auth)
        with redis.Redis.from_url(stack.redis_url) as cache:
            dashboard_keys = sorted(k.decode() for k in cache.keys("*dashboard*"))
        stack.supervisor.restart("jobs")
        back = client.get("/v1/me/dashboard", headers=auth)

        # user hanging (SIGSTOP: it accepts connections and never answers) -> 504, for a
        # dashboard whose activity view is not cached.
        _drop_views(stack.redis_url, f"user:dashboard:{user_id}")
        stack.supervisor.kill("user", signal.SIGSTOP)
        try:
            hung = [_timed(client, "/v1/me/dashboard", auth) for _ in range(2)]
        finally:
            stack.supervisor.kill("user", signal.SIGCONT)
        started = time.monotonic()
        wait_until(lambda: client.get("/v1/me", headers=auth).status_code == 200, timeout=30)
        user_recovery = time.monotonic() - started
        client.close()
        exits = stack.supervisor.unexpected_exits

    figures.record(
        fault="jobs SIGKILLed (refused connections), then user SIGSTOPped (a peer that hangs)",
        load=f"{PROBES} sequential GET /v1/me/dashboard per fault, as one client",
        warm_dashboard_while_jobs_down=warm_while_jobs_down[0],
        jobs_down_statuses=sorted({status for status, _, _ in down}),
        jobs_down_slowest_s=max(elapsed for _, _, elapsed in down),
        user_hung_statuses=sorted({status for status, _, _ in hung}),
        user_hung_slowest_s=max(elapsed for _, _, elapsed in hung),
        me_while_jobs_down=me_while_jobs_down[0],
        dashboard_cache_keys_while_down=dashboard_keys,
        dashboard_after_jobs_back=back.status_code,
        user_recovery_s=round(user_recovery, 2),
        processes_died=[report.name for report in exits],
    )

    assert not exits, [str(report) for report in exits]
    assert warm_while_jobs_down[0] == 200, "a warm dashboard needs no peer"
    for status, body, elapsed in [*down, reports_down]:
        assert status == 503 and body["error"] == "service_unavailable", (status, body)
        assert elapsed < WITHIN_S, elapsed
    assert me_while_jobs_down[0] == 200
    for status, body, elapsed in hung:
        assert status == 504 and body["error"] == "gateway_timeout", (status, body)
        assert elapsed < WITHIN_S, elapsed
    # Only the user service's own (complete) part may be cached; never a composed dashboard.
    assert all(key.startswith("user:dashboard:") for key in dashboard_keys), dashboard_keys
    assert back.status_code == 200, back.text
    assert back.json()["stats"]["reports_total"] == 1, "a dashboard without reports was kept"
    assert len(back.json()["recent_reports"]) == 1


def _timed(
    client: httpx.Client, path: str, auth: dict[str, str]
) -> tuple[int, dict[str, str], float]:
    started = time.monotonic()
    response = client.get(path, headers=auth)
    return response.status_code, response.json(), round(time.monotonic() - started, 3)


def _drop_views(redis_url: str, *keys: str) -> None:
    """Drop cached views, so the next dashboard has to ask their owners."""
    with redis.Redis.from_url(redis_url) as cache:
        cache.delete(*keys)
