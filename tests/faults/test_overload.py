"""Overload at ~3x what the stack sustains: it sheds (503 + Retry-After) instead of queueing."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fault_support import (
    Figures,
    own_after_stack,
    percentile,
    register_and_login,
    rss_mb,
    run_load,
    summarize,
)

pytestmark = pytest.mark.slow

PROBE_S, BASE_S, OVERLOAD_S, RECOVERY_S = 3.0, 3.0, 8.0, 8.0
# Work admitted during the overload may take up to 5 s to finish (the bound asserted below), so
# the recovery is judged from SETTLE_S after the overload ends, not while that backlog drains.
SETTLE_S = 3.0
OVERLOAD_FACTOR = 3
# The load generator's own cap: well above the services' in-flight cap (64 per worker), so what
# bounds the queue is the server; not much higher, or the generator (on the same 2 cores) becomes
# the bottleneck and its own event loop the queue.
CLIENT_CONCURRENCY = 160
SHED_STATUSES = {429, 503}
# The edge's in-flight cap per worker (default 64), sized for this test from what one worker
# serves here (~150 req/s) times the latency it should keep (~0.1 s). On 2 shared cores the
# generator runs out of CPU before 64 requests are ever in the app at once, so the default cap
# would never be reached; a deployment sizes the cap the same way from its own figures.
EDGE_MAX_IN_FLIGHT = 16


def test_overload_is_shed_with_retry_after_and_the_stack_recovers(figures: Figures) -> None:
    options = {"CORE_API_MAX_IN_FLIGHT": str(EDGE_MAX_IN_FLIGHT)}
    with own_after_stack("overload", extra_env=options) as stack:
        with httpx.Client(base_url=stack.base_url, timeout=30, trust_env=False) as client:
            users = [register_and_login(client, f"load{i}") for i in range(8)]

        # An events page: a hop to the user service and a query each. A warm dashboard is read
        # from the owners' views at the edge, too cheap for a generator on the same two cores to
        # overload the stack with.
        async def events_page(http: httpx.AsyncClient, index: int) -> httpx.Response:
            return await http.get("/v1/me/events?limit=20", headers=users[index % len(users)][1])

        async def capacity() -> float:
            """Measure what the stack serves right now with a few requests always in flight."""
            probe = await run_load(
                stack.base_url, events_page, rate=2000, duration_s=PROBE_S, concurrency=8
            )
            return sum(1 for o in probe.outcomes if o.ok) / PROBE_S

        sustainable = asyncio.run(capacity())
        rss_before = rss_mb(stack)
        base = asyncio.run(
            run_load(stack.base_url, events_page, rate=sustainable / 2, duration_s=BASE_S)
        )
        rate = sustainable * OVERLOAD_FACTOR
        overload = asyncio.run(
            run_load(
                stack.base_url,
                events_page,
                rate=rate,
                duration_s=OVERLOAD_S,
                concurrency=CLIENT_CONCURRENCY,
            )
        )
        rss_peak = rss_mb(stack)
        recovery = asyncio.run(
            run_load(stack.base_url, events_page, rate=sustainable / 2, duration_s=RECOVERY_S)
        )
        exits = stack.supervisor.unexpected_exits

    shed = [o for o in overload.outcomes if o.status in SHED_STATUSES]
    other_failures = [o for o in overload.outcomes if not o.ok and o.status not in SHED_STATUSES]
    base_p95 = summarize(base.outcomes)["p95_ms"] or 0.0
    admitted = [o for o in overload.outcomes if o.ok]
    served_ms = sorted(o.server_ms for o in admitted if o.server_ms is not None)
    served_p95 = percentile(served_ms, 95)
    settled = recovery.window(recovery.started + SETTLE_S, recovery.ended)
    figures.record(
        fault=f"open-model load at {OVERLOAD_FACTOR}x the measured sustainable rate "
        f"(core_api in-flight cap {EDGE_MAX_IN_FLIGHT} per worker)",
        load=f"GET /v1/me/events?limit=20; sustainable ~{sustainable:.0f} req/s (measured with 8 "
        f"in flight), overload {rate:.0f} req/s for {OVERLOAD_S:.0f} s",
        sustainable_rps=round(sustainable, 1),
        overload_rps=round(rate, 1),
        baseline=summarize(base.outcomes),
        during=summarize(overload.outcomes),
        client_dropped=overload.dropped,
        shed=len(shed),
        shed_with_retry_after=sum(1 for o in shed if "retry-after" in o.headers),
        other_failures=sorted({o.kind for o in other_failures}),
        admitted_server_p95_ms=served_p95,
        recovery=summarize(settled),
        rss_mb_before=rss_before,
        rss_mb_peak=rss_peak,
        processes_died=[report.name for report in exits],
    )

    assert not exits, [str(report) for report in exits]
    assert shed, "nothing was shed: the overload was queued"
    assert all("retry-after" in o.headers for o in shed), "a shed answer lacks Retry-After"
    assert not other_failures, summarize(other_failures)
    assert admitted, "nothing was served during the overload"
    # Bounded queueing: what was admitted was served well within a client's patience. Measured
    # by the app (Server-Timing): the client's own clock adds the generator's queue on this
    # shared machine.
    assert served_p95 is not None and served_p95 < 5000, served_p95
    for name, before in rss_before.items():
        assert rss_peak.get(name, 0) < before * 2 + 200, (name, before, rss_peak.get(name))
    assert settled and all(o.ok for o in settled), summarize(settled)
    assert (summarize(settled)["p95_ms"] or 0) < max(4 * base_p95, base_p95 + 500), (
        summarize(settled),
        base_p95,
    )
